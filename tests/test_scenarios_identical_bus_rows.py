"""Identical ``bus`` rows in one scenario (user test ut49_growth #2): bus rows at one bus add
up (the format's rule: a PV and an EV charger at one bus are two rows), so a copied PV row
doubled the PV without a word, while a load named twice is refused (exit code 2). Now such
rows are still read as the format says, and a note names the scenario, the bus, the rows and
what the bus then gets.

Truth: the hand sum of the rows (two rows of -0.25 MW at bus 8 beside its load) and the
file's own row numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.io.scenarios import load_scenarios
from netbuild import NINE_BUS_LOADS, nine_bus_pandapower

pp = pytest.importorskip("pandapower")
PV = "base,bus,8,-0.25,0.0,1.0,pv"


def write(tmp: Path, extra: list[str]) -> Path:
    net = nine_bus_pandapower()
    pp.to_json(net, str(tmp / "net.json"))
    rows = [f"base,load,load:{k},{p},{q},1.0,load" for k, p, q in
            zip(net.load.index, net.load.p_mw, net.load.q_mvar, strict=True)]
    (tmp / "s.csv").write_text("scenario,kind,element,p_mw,q_mvar,weight,der\n"
                               + "\n".join([*rows, *extra]) + "\n")
    return tmp / "s.csv"


def test_identical_bus_rows_add_up_with_a_note(tmp_path) -> None:
    path = write(tmp_path, [PV, "base,bus,8,0.1,0.0,1.0,ev", PV])
    lines = path.read_text().splitlines()
    pv_rows = [i for i, line in enumerate(lines) if line == PV]  # header is line 0
    sset = load_scenarios(feederopt.load(str(tmp_path / "net.json")), path)
    p = dict(zip(sset.bus_ids, sset.p_mw[0], strict=True))
    # the format's rule, by hand: the load at bus 8 plus -0.25 + 0.1 - 0.25
    assert p["8"] == pytest.approx(NINE_BUS_LOADS[8][0] - 0.25 + 0.1 - 0.25)
    notes = [n for n in sset.notes if "identical bus rows" in n]
    assert len(notes) == 1, sset.notes
    assert "scenario base" in notes[0] and "at bus 8" in notes[0]
    assert f"rows {pv_rows[0]}, {pv_rows[1]}" in notes[0]
    assert "-0.4 MW" in notes[0]  # what bus 8 gets from its rows: -0.25 + 0.1 - 0.25


def test_distinct_rows_at_one_bus_need_no_note(tmp_path) -> None:
    path = write(tmp_path, [PV, "base,bus,8,-0.25,0.0,1.0,ev"])
    sset = load_scenarios(feederopt.load(str(tmp_path / "net.json")), path)
    assert not [n for n in sset.notes if "identical" in n]


def test_solve_prints_the_note(tmp_path) -> None:
    from feederopt.cli import app

    path = write(tmp_path, [PV, PV])
    res = CliRunner().invoke(app, ["solve", str(tmp_path / "net.json"), "--scenarios",
                                   str(path), "--time-limit", "10", "--workers", "1"],
                             env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "scenario base: 2 identical bus rows at bus 8" in flat
