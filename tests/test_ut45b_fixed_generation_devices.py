"""``--fixed-generation`` and a controllable pandapower sgen (user test ut45b B4): the sgen is
a DOPF device, which ``--fixed-generation`` does not hold; the solve moved it (0.3 -> 1.0 MW)
and the console said "re-dispatched" without a word why. Now a note on the console and in the
JSON's notes names the unit and the option that holds it (``--fix-devices``).

Truth, apart from feederopt's note: pandapower. Without ``--fix-devices`` the sgen's P in the
written net differs from its data set-point (so the note's claim holds); with it, the sgen
stays at 0.3 MW and ``runpp`` at the answer's topology gives the reported AC losses."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from netbuild import tie7_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")


def _net_file(tmp_path: Path) -> Path:
    net = tie7_pandapower()
    pp.create_sgen(net, 5, p_mw=0.3, q_mvar=0.0, controllable=True, min_p_mw=0.0,
                   max_p_mw=1.0, min_q_mvar=0.0, max_q_mvar=0.0)
    path = tmp_path / "tie7g.json"
    pp.to_json(net, str(path))
    return path


def _solve(path: Path, out: Path, *extra: str) -> tuple[str, dict]:
    r = CliRunner().invoke(app, ["solve", str(path), "--fixed-generation", *extra,
                                 "--time-limit", "30", "--json", str(out)],
                           env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    return r.output, json.loads(out.read_text())


def test_fixed_generation_says_it_does_not_hold_a_controllable_sgen(tmp_path: Path) -> None:
    path = _net_file(tmp_path)
    output, doc = _solve(path, tmp_path / "a.json")
    note = [n for n in doc.get("notes", []) if n.startswith("--fixed-generation does not hold")]
    assert len(note) == 1 and "sgen:0" in note[0] and "--fix-devices" in note[0]
    assert "note: --fixed-generation does not hold" in " ".join(output.split())
    gens = {g["id"]: g for g in doc.get("generators") or []}
    moved = gens["sgen:0"]["p_mw"] if "sgen:0" in gens else None
    devices = {d["id"]: d for d in doc.get("devices") or []}
    if moved is None:
        moved = devices["sgen:0"]["p_mw"]
    assert moved != pytest.approx(0.3, abs=1e-3)  # the note's claim: the DOPF moved it

    output, doc = _solve(path, tmp_path / "b.json", "--fix-devices")
    assert not any(n.startswith("--fixed-generation does not hold") for n in doc.get("notes", []))
    assert "does not hold" not in output
    net = pp.from_json(str(path))
    open_lines = {int(b["id"].split(":")[1]) for b in doc["open_branches"]}
    for s in net.switch.index:
        net.switch.at[s, "closed"] = int(net.switch.at[s, "element"]) not in open_lines
    pp.runpp(net)
    assert 1e3 * float(net.res_line.pl_mw.sum()) == pytest.approx(
        doc["ac_check"]["losses_kw"], rel=1e-4)
