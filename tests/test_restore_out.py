"""``feederopt restore CASE --broken ... --out DIR``: the result folder of a restoration, as
``plan``, ``solve``, ``schedule`` and ``partition`` write theirs.

The feeder: a 20 kV pandapower net built here, the source at bus 0, a radial feeder 0-1-2-3
(``line:0`` .. ``line:2``, 2 km each) and a normally open tie 0-3 (``line:3``, its switch
open). With ``line:0`` broken the only operation that sheds nothing closes the tie and keeps
lines 1 and 2 closed (buses 1 and 2 are reached only over them), so the restored topology is
known by hand and pandapower's own power flow of it (``pp.runpp`` on a copy of the net with
``line:0`` out of service and the tie's switch closed) is the independent truth for the
folder's AC voltages, flows and losses. With the tie broken too, buses 1-3 have no path to the
source: all their load is shed (hand calculation), and pandapower leaves them unsupplied.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt.api_resilience
from feederopt.cli import app
from feederopt.io.writing import MANIFEST

runner = CliRunner(env={"COLUMNS": "240"})
#: Each load [MW], Q = 0.3 P.
LOADS_MW = {1: 0.8, 2: 1.1, 3: 0.9}
FILES = {"result.json", "buses.parquet", "branches.parquet", "switching.parquet",
         "restoration.png", "report.html", MANIFEST}


def feeder() -> pp.pandapowerNet:
    net = pp.create_empty_network(sn_mva=1.0)
    bus = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(4)]
    pp.create_ext_grid(net, bus[0], vm_pu=1.0)
    for a, b in ((0, 1), (1, 2), (2, 3)):
        pp.create_line_from_parameters(net, bus[a], bus[b], 2.0, 0.3, 0.4, 10.0, 0.4)
    tie = pp.create_line_from_parameters(net, bus[0], bus[3], 2.0, 0.3, 0.4, 10.0, 0.4)
    pp.create_switch(net, bus[0], tie, et="l", closed=False, name="sw_tie")
    for b, p in LOADS_MW.items():
        pp.create_load(net, bus[b], p_mw=p, q_mvar=0.3 * p)
    return net


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("case") / "feeder.json"
    pp.to_json(feeder(), str(path))
    return path


@pytest.fixture(scope="module")
def restored(case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "r"
    res = runner.invoke(app, ["restore", str(case), "--broken", "line:0", "--out", str(out),
                              "-q"])
    assert res.exit_code == 0, res.output
    return out


def truth(broken: list[int]) -> pp.pandapowerNet:
    """pandapower's power flow of the restoration known by hand: the broken lines out of
    service, the tie's switch closed."""
    net = feeder()
    net.switch.loc[0, "closed"] = True
    for k in broken:
        net.line.loc[k, "in_service"] = False
    pp.runpp(net, numba=False)
    return net


def test_the_folder_holds_the_restoration(restored: Path) -> None:
    assert {p.name for p in restored.iterdir()} == FILES
    assert set((restored / MANIFEST).read_text().split()) == FILES - {MANIFEST}
    doc = json.loads((restored / "result.json").read_text())
    assert (doc["kind"], doc["schema_version"]) == ("resilience_restore",
                                                    feederopt.SCHEMA_VERSION)
    assert doc["shed_kw"] == pytest.approx(0.0, abs=1e-6)
    branches = pl.read_parquet(restored / "branches.parquet")
    state = dict(zip(branches["id"].to_list(), branches["state"].to_list(), strict=True))
    assert state == {"line:0": "broken", "line:1": "closed", "line:2": "closed",
                     "line:3": "closed"}
    switching = pl.read_parquet(restored / "switching.parquet").to_dicts()
    # no name: this net's lines have none (tests/test_resilience_names.py names them)
    assert switching == [{"branch": "line:3", "name": None, "action": "close",
                          "operated_by": "switch 0 'sw_tie'", "fallback": False}]


def test_the_tables_agree_with_pandapower(restored: Path) -> None:
    net = truth([0])
    buses = pl.read_parquet(restored / "buses.parquet")
    assert buses["id"].to_list() == ["0", "1", "2", "3"]
    for row in buses.iter_rows(named=True):
        v = float(net.res_bus.vm_pu[int(row["id"])])
        assert row["vm_ac_pu"] == pytest.approx(v, abs=1e-6), row["id"]
        assert row["va_ac_degree"] == pytest.approx(float(net.res_bus.va_degree[int(row["id"])]),
                                                    abs=1e-4)
        # LinDistFlow is lossless: its voltages lie a little above the AC ones
        assert v - 1e-9 <= row["vm_pu"] <= v + 0.01, row["id"]
        assert row["p_load_kw"] == pytest.approx(1e3 * LOADS_MW.get(int(row["id"]), 0.0))
        assert row["p_shed_kw"] == pytest.approx(0.0, abs=1e-6)
        assert row["energised"]
    branches = pl.read_parquet(restored / "branches.parquet")
    for row in branches.iter_rows(named=True):
        k = int(row["id"].split(":")[1])
        res = net.res_line.loc[k]
        p, q, loss = ((0.0, 0.0, 0.0) if k == 0 else
                      (1e3 * res.p_from_mw, 1e3 * res.q_from_mvar, 1e3 * res.pl_mw))
        assert row["p_from_ac_kw"] == pytest.approx(p, abs=1e-3), row["id"]
        assert row["q_from_ac_kvar"] == pytest.approx(q, abs=1e-3), row["id"]
        assert row["loss_ac_kw"] == pytest.approx(loss, abs=1e-3), row["id"]
        if k:
            assert row["loading_ac_percent"] == pytest.approx(float(res.loading_percent),
                                                              rel=1e-6)
    losses = 1e3 * float(net.res_line.pl_mw.sum())
    assert float(branches["loss_ac_kw"].sum()) == pytest.approx(losses, rel=1e-6)
    doc = json.loads((restored / "result.json").read_text())
    assert doc["ac_check"]["losses_kw"] == pytest.approx(losses, rel=1e-6)
    # the model's flow on the tie is the whole load, lossless (hand calculation)
    tie = branches.filter(pl.col("id") == "line:3").row(0, named=True)
    assert tie["p_from_kw"] == pytest.approx(1e3 * sum(LOADS_MW.values()), rel=1e-6)


def test_shed_buses_are_de_energised_in_the_tables(case: Path, tmp_path: Path) -> None:
    """Line 0 and the tie broken: buses 1-3 are cut off, their whole load shed."""
    out = tmp_path / "r2"
    res = runner.invoke(app, ["restore", str(case), "--broken", "line:0,line:3", "--out",
                              str(out), "-q"])
    assert res.exit_code == 0, res.output
    net = truth([0, 3])
    buses = pl.read_parquet(out / "buses.parquet")
    for row in buses.iter_rows(named=True):
        b = int(row["id"])
        assert row["p_shed_kw"] == pytest.approx(1e3 * LOADS_MW.get(b, 0.0), abs=1e-6)
        assert row["energised"] is (b == 0)
        if b:  # pandapower leaves them unsupplied: no voltage, in either table
            assert math.isnan(float(net.res_bus.vm_pu[b]))
            assert row["vm_ac_pu"] is None and row["vm_pu"] is None
    assert float(buses["p_shed_kw"].sum()) == pytest.approx(1e3 * sum(LOADS_MW.values()))


def test_report_rebuilds_the_folders_page(restored: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    res = runner.invoke(app, ["report", str(restored), "--out", str(target)])
    assert res.exit_code == 0, res.output
    page = target.read_text(encoding="utf-8")
    assert page == (restored / "report.html").read_text(encoding="utf-8")
    for anchor in ("summary", "grid", "switching", "ac-check", "buses", "branches"):
        assert f'<section id="{anchor}">' in page, anchor
    assert page.count('<img src="data:image/png;base64,') == 1
    assert "sw_tie" in page and "vm_ac_pu" in page and "p_from_ac_kw" in page


def test_a_folder_of_the_users_files_is_never_replaced(case: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """As for the other commands: without --force an existing folder is refused; with it,
    only an empty folder or an earlier result folder is replaced; a file of the user's under
    a name the folder gets is refused; all before any solving (exit 2)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("a,b\n1,2\n")

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("the restoration ran although an output problem was known")

    monkeypatch.setattr(feederopt.api_resilience, "_restore", no_solve)
    for extra, kind in (([], "output_exists"), (["--force"], "not a feederopt result folder")):
        res = runner.invoke(app, ["restore", str(case), "--broken", "line:0", "--out",
                                  str(mine), *extra])
        assert res.exit_code == 2, res.output
        assert kind in " ".join(res.output.split()) and "Traceback" not in res.output
        assert [p.name for p in mine.iterdir()] == ["data.csv"]


def test_force_replaces_only_feederopts_files(case: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ["restore", str(case), "--broken", "line:0", "--out", str(out), "-q"]
    assert runner.invoke(app, args).exit_code == 0
    (out / "notes.txt").write_text("mine")
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "output_exists" in res.output
    res = runner.invoke(app, [*args, "--force"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == FILES | {"notes.txt"}
    assert (out / "notes.txt").read_text() == "mine"
    # a figure of the user's under the name the folder gets: refused even with --force
    (out / MANIFEST).write_text("result.json\n")
    before = (out / "restoration.png").read_bytes()
    res = runner.invoke(app, [*args, "--force"])
    assert res.exit_code == 2 and "not feederopt's" in " ".join(res.output.split())
    assert (out / "restoration.png").read_bytes() == before
