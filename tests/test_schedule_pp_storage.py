"""pandapower ``storage`` elements in ``feederopt schedule`` (ut_sched2 #3): they are fixed
loads at their ``p_mw`` every hour (pandapower's power flow takes them so), with no state of
charge and no dispatch; a note names them, and one that the ESS table lists again (same bus and
energy) with a non-zero ``p_mw`` is refused (exit 2: it would be counted twice), while at
``p_mw = 0`` it only adds a line to the note. Truth: the hourly demand against the hand sum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pp = pytest.importorskip("pandapower")

from typer.testing import CliRunner  # noqa: E402

from feederopt.cli import app  # noqa: E402

LOADS = (0.8, 0.6, 0.9)  # MW at buses 1-3


def _inputs(tmp_path: Path, storage_p: float) -> tuple[Path, Path, Path]:
    net = pp.create_empty_network()
    buses = [pp.create_bus(net, 20) for _ in range(4)]
    pp.create_ext_grid(net, buses[0])
    std = "NA2XS2Y 1x95 RM/25 12/20 kV"
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 3)]:
        line = pp.create_line(net, buses[a], buses[b], 3.0, std)
        pp.create_switch(net, buses[a], line, "l", closed=(a, b) != (0, 3))
    for k, p in enumerate(LOADS):
        pp.create_load(net, buses[k + 1], p_mw=p, q_mvar=0.2 * p)
    pp.create_storage(net, buses[2], p_mw=storage_p, max_e_mwh=1.0, max_p_mw=0.5,
                      min_p_mw=-0.5, name="BESS2")
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    prof = tmp_path / "prof.csv"
    prof.write_text("time,element,value\n" + "".join(f"{h},load:0,0.9\n" for h in range(2)))
    dev = tmp_path / "dev"
    dev.mkdir()
    return path, prof, dev


def _run(path: Path, prof: Path, dev: Path, out: Path) -> object:
    return CliRunner().invoke(app, ["schedule", str(path), "--profiles", str(prof),
                                    "--devices", str(dev), "--hours", "2", "--no-ac-check",
                                    "--time-limit", "30", "--json", str(out)],
                              env={"COLUMNS": "200"})


def test_storage_is_a_fixed_load_and_the_note_names_it(tmp_path: Path) -> None:
    path, prof, dev = _inputs(tmp_path, 0.3)
    r = _run(path, prof, dev, tmp_path / "r.json")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    doc = json.loads((tmp_path / "r.json").read_text())
    # the hand sum: the loads (load 0 at 0.9) plus the storage's 0.3 MW, every hour
    demand = 0.9 * LOADS[0] + LOADS[1] + LOADS[2] + 0.3
    assert doc["series"]["demand_mw"] == pytest.approx([demand, demand], abs=1e-6)
    note = next(n for n in doc["notes"] if "pandapower storage" in n)
    assert "storage:0 (bus 2, p_mw 0.3, 1 MWh)" in note
    assert "no state of charge" in note and "ess.csv" in note


def test_the_same_unit_in_the_ess_table_is_refused_unless_idle(tmp_path: Path) -> None:
    ess = ("id,bus,e_max_mwh,p_max_mw,eta_ch,eta_dis,soc0\n"
           "BESS2,2,1.0,0.5,0.95,0.95,0.5\n")
    path, prof, dev = _inputs(tmp_path, 0.3)
    (dev / "ess.csv").write_text(ess)
    r = _run(path, prof, dev, tmp_path / "r.json")
    out = " ".join(r.output.split())  # type: ignore[attr-defined]
    assert r.exit_code == 2, out  # type: ignore[attr-defined]
    assert "Traceback" not in out
    assert "storage:0" in out and "BESS2" in out and "counted twice" in out
    # at p_mw 0 the pandapower storage adds nothing: scheduled once, as the ESS, with a note
    idle = tmp_path / "idle"
    idle.mkdir()
    path, prof, dev = _inputs(idle, 0.0)
    (dev / "ess.csv").write_text(ess)
    r = _run(path, prof, dev, idle / "r.json")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    doc = json.loads((idle / "r.json").read_text())
    demand = 0.9 * LOADS[0] + LOADS[1] + LOADS[2]
    assert doc["series"]["demand_mw"] == pytest.approx([demand, demand], abs=1e-6)
    assert any("storage:0 is the ESS BESS2" in n for n in doc["notes"])
