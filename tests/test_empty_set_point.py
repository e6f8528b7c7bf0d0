"""An empty ``v_set_pu`` cell of a source bus means the schema's default, 1.0 p.u., in the
model and in the AC check alike (user test ut_edge #2: the model used 1.0, the AC check's
pandapower net got NaN and the check failed, exit 4, while ``info`` said "problems: none").
The truth is pandapower's power flow of the answer's topology on a net built here from the
same data with the source at 1.0 p.u.
"""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import polars as pl
import pytest

import feederopt
from feederopt.io import read_folder

BUSES = ["S", "a", "b", "c"]
# id, from, to, r, x, switchable: a ring S-a-b-c-S with one switchable tie c-S
BRANCHES = [("L1", "S", "a", 0.5, 0.4, False), ("L2", "a", "b", 0.6, 0.5, True),
            ("L3", "b", "c", 0.4, 0.3, True), ("T1", "c", "S", 0.7, 0.6, True)]
LOADS = [("d1", "a", 1.0, 0.3), ("d2", "b", 0.8, 0.2), ("d3", "c", 1.2, 0.4)]


def _write(folder: Path, v_set: str) -> Path:
    folder.mkdir()
    rows = [f"S,12.66,True,{v_set}"] + [f"{b},12.66,False,1.0" for b in BUSES[1:]]
    (folder / "buses.csv").write_text("id,vn_kv,is_source,v_set_pu\n" + "\n".join(rows) + "\n")
    (folder / "branches.csv").write_text(
        "id,from_bus,to_bus,r_ohm,x_ohm,switchable,normally_open\n" + "\n".join(
            f"{i},{f},{t},{r},{x},{sw},{i == 'T1'}" for i, f, t, r, x, sw in BRANCHES) + "\n")
    (folder / "loads.csv").write_text("id,bus,p_mw,q_mvar\n" + "\n".join(
        f"{i},{b},{p},{q}" for i, b, p, q in LOADS) + "\n")
    return folder


def _runpp_losses_kw(open_ids: set[str]) -> float:
    net = pp.create_empty_network()
    idx = {b: pp.create_bus(net, vn_kv=12.66) for b in BUSES}
    pp.create_ext_grid(net, idx["S"], vm_pu=1.0)
    for i, f, t, r, x, _ in BRANCHES:
        pp.create_line_from_parameters(net, idx[f], idx[t], 1.0, r, x, 0.0, 1e3,
                                       in_service=i not in open_ids)
    for _, b, p, q in LOADS:
        pp.create_load(net, idx[b], p_mw=p, q_mvar=q)
    pp.runpp(net)
    return 1000.0 * float(net.res_line.pl_mw.sum())


def test_empty_source_set_point_is_the_default(tmp_path: Path) -> None:
    blank = read_folder(_write(tmp_path / "blank", ""))
    assert not [p for p in blank.validate() if p.is_error]

    got = feederopt.solve(blank, time_limit=60)
    given = feederopt.solve(read_folder(_write(tmp_path / "given", "1.0")), time_limit=60)

    assert got.ac_check is not None and got.ac_check.converged
    assert {b["id"] for b in got.open_branches} == {b["id"] for b in given.open_branches}
    assert got.losses_kw == pytest.approx(given.losses_kw, rel=1e-6)
    truth = _runpp_losses_kw({b["id"] for b in got.open_branches})
    assert got.ac_check.losses_kw == pytest.approx(truth, rel=1e-6)
    assert given.ac_check is not None
    assert given.ac_check.losses_kw == pytest.approx(truth, rel=1e-6)
    assert blank.buses.filter(pl.col("id") == "S")["v_set_pu"].to_list() == [1.0]


def test_typed_table_with_an_empty_set_point_is_filled_by_check() -> None:
    """A typed buses table assigned with a null set-point (the API) gets the default too."""
    buses = pl.DataFrame({"id": ["S", "a"], "vn_kv": [11.0, 11.0], "is_source": [True, False],
                          "v_set_pu": [None, 1.0]}, schema_overrides={"v_set_pu": pl.Float64})
    branches = pl.DataFrame({"id": ["L"], "from_bus": ["S"], "to_bus": ["a"],
                             "r_ohm": [0.5], "x_ohm": [0.4]})
    network = feederopt.Network.from_tables(buses=buses.with_columns(pl.lit(1.0).alias(
        "v_set_pu")), branches=branches)
    network.buses = network.buses.with_columns(
        pl.when(pl.col("id") == "S").then(None).otherwise(pl.col("v_set_pu")).alias("v_set_pu"))
    assert network.check().buses["v_set_pu"].to_list() == [1.0, 1.0]


def test_an_empty_voltage_band_cell_is_the_documented_default(tmp_path: Path) -> None:
    """README: a bus's band defaults to 0.9..1.1 p.u.; an empty cell is that default for the
    model and for the pandapower export alike (before: null, which the export wrote as NaN)."""
    folder = _write(tmp_path / "band", "1.0")
    text = (folder / "buses.csv").read_text().splitlines()
    rows = [text[0] + ",v_min_pu,v_max_pu"] + [r + ",," for r in text[1:2]] + [
        r + ",0.95,1.05" for r in text[2:]]
    (folder / "buses.csv").write_text("\n".join(rows) + "\n")
    buses = read_folder(folder).buses.sort("id")
    got = dict(zip(buses["id"].to_list(), zip(buses["v_min_pu"].to_list(),
                                              buses["v_max_pu"].to_list(), strict=True),
                   strict=True))
    assert got["S"] == (0.9, 1.1)
    assert got["a"] == (0.95, 1.05)
