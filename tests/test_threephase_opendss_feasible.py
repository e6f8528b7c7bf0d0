"""The model's linearised ratings call a solve infeasible, OpenDSS finds a radial state within
every limit: that state is the answer, status ``feasible`` (by OpenDSS).

LinDist3Flow holds a rating as an apparent power at 1 p.u. (``s_max = V_b I_max``) on a
lossless flow. On a feeder run above 1 p.u. the currents are smaller than that by about
``1/V``, so the model's ratings are conservative there. With few radial states OpenDSS ranks
them for an infeasible solve (``least_overloading``); it used to answer with its least
overloading state and status ``infeasible`` (exit 3) even when that state, or another, was
within every rating and voltage limit with every load served. Now the answer is the state of
least OpenDSS losses among those within every limit, with status ``feasible`` (the existing
status for an answer within every limit without proof of optimality), exit 0, and the reason
and a note say that the model's linearised ratings were conservative and OpenDSS found it.

The feeder (written here) is a 12.47 kV ring, the source at 1.08 p.u.: the head line ``L0``,
switch ``sw1`` and a 3 km line ``La1`` (rated 68 A) to ``b`` (1500 kW), switch ``sw2`` and a
0.5 km line ``La2`` (rated 88 A) to ``c`` (500 kW), the tie ``tie`` and line ``Lbc`` between
``b`` and ``c``: three radial states. By the model's 1 p.u. currents (69.4 A for ``b``, 92.6 A
for both loads) every state overloads ``La1`` or ``La2``; by OpenDSS's, at about 1.07 p.u.,
two are within every rating: ``tie`` open (``La1`` about 95 %, the least largest loading) and
``sw1`` open (``La2`` about 98 %, the lesser losses: ``b`` fed over two short lines). The
loads are constant power (``vmaxpu=1.2``: OpenDSS's default 1.05 would make them constant
impedance above it).

The truth is opendssdirect's, computed in the test: every radial state (brute force over the
switch lines: the bus graph a tree, networkx) compiled and solved with OpenDSS's controls
off; every line's loading (its largest phase-conductor current at either terminal over its
``NormAmps``), every bus voltage against 0.9-1.1 p.u., and the circuit's losses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.cli.app import EXIT_LIMITS_BROKEN
from opendss_states import radial_states, ring_feeder, solve_switched, two_terminal_edges

SWITCHES = ["sw1", "sw2", "tie"]
FEEDER = ring_feeder("ring3", pu=1.08, l0_amps=1000, la1=(3, 68), la2=(0.5, 88), lbc_km=0.5)
#: ``L0`` rated below its OpenDSS current (about 86 A): a bridge above its rating in every
#: state, which no switching relieves (and LinDist3Flow's 92.6 A puts above it too).
BRIDGE_OVER = FEEDER.replace("normamps=1000", "normamps=85")


def _feeder(folder: Path, text: str = FEEDER) -> Path:
    path = folder / "ring3.dss"
    path.write_text(text)
    return path


def _truth(path: Path) -> dict[frozenset[str], dict[str, float | bool]]:
    """Per radial state: every line's OpenDSS loading [%], whether every bus voltage is
    within 0.9-1.1 p.u., and OpenDSS's losses [kW]."""
    solve_switched(path, SWITCHES, set())
    out: dict[frozenset[str], dict[str, float | bool]] = {}
    for state in radial_states(two_terminal_edges(), SWITCHES):
        solve_switched(path, SWITCHES, set(state))
        row: dict[str, float | bool] = {}
        for name in dss.Lines.AllNames():
            dss.Circuit.SetActiveElement(f"Line.{name}")
            if not dss.CktElement.Enabled():
                continue
            n, nc = dss.CktElement.NumPhases(), dss.CktElement.NumConductors()
            mags = dss.CktElement.CurrentsMagAng()[::2]
            amps = max(mags[t * nc + c] for t in range(2) for c in range(n))
            row[name] = 100.0 * amps / dss.CktElement.NormalAmps()
        volts = [v for v in dss.Circuit.AllBusMagPu() if v > 0.1]
        row["volts_ok"] = all(0.9 <= v <= 1.1 for v in volts)
        row["losses_kw"] = dss.Circuit.Losses()[0] / 1000.0
        out[state] = row
    return out


def _largest(row: dict[str, float | bool], leave_out: tuple[str, ...] = ()) -> float:
    return max(float(v) for k, v in row.items()
               if k not in ("volts_ok", "losses_kw", *leave_out))


def test_opendss_answers_where_the_model_ratings_admit_none(tmp_path: Path) -> None:
    from feederopt import solve_three_phase

    path = _feeder(tmp_path)
    truth = _truth(path)
    assert len(truth) == 3
    inside = {s: r for s, r in truth.items() if r["volts_ok"] and _largest(r) <= 100.0}
    best = min(inside, key=lambda s: float(inside[s]["losses_kw"]))
    least = min(truth, key=lambda s: _largest(truth[s]))
    # the premise: two states within every limit in OpenDSS; the least loading is not the
    # least losses (the answer is chosen by the losses among those within the limits) ...
    assert len(inside) == 2 and least in inside and least != best
    # ... and the model's ratings admit none (no OpenDSS solve: its verdict alone)
    model = solve_three_phase(str(path), time_limit_s=60, ac_check=False,
                              voltage_feedback=False)
    assert model.status == "infeasible" and model.has_solution

    out, folder = tmp_path / "r.json", tmp_path / "out"
    res = CliRunner().invoke(app, ["solve", str(path), "--json", str(out), "--out",
                                   str(folder), "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "feasible" and doc["has_solution"]
    assert frozenset(doc["open_switches"]) == best
    ac = doc["ac_check"]
    assert ac["within_limits"] and ac["passed"]
    assert ac["losses_kw"] == pytest.approx(truth[best]["losses_kw"], rel=1e-3)
    assert abs(ac["loading"]["max_loading_percent"] - _largest(truth[best])) < 0.1
    assert doc["opendss_fixed_overloads"] == []
    assert doc["lower_bound_source"] == "opendss" and doc["gap"] is None
    reason = doc["reason"]
    assert reason.startswith("feasible by OpenDSS: LinDist3Flow's linearised ratings were "
                             "conservative here"), reason
    assert "OpenDSS finds this state within every rating that switching changes" in reason
    assert "of the 2 such radial state(s) of 3, each solved by OpenDSS, it has the least " \
        "OpenDSS losses" in reason
    assert any(n.startswith("status feasible, by OpenDSS: the model's linearised ratings")
               for n in doc["notes"])
    rec = doc["least_overloading"]
    assert rec["ranked_by"] == "OpenDSS" and rec["within_limits"]
    assert frozenset(rec["chosen"]) == best
    for row in rec["states"]:
        state = frozenset(row["open_switches"])
        assert row["within_limits"] == (state in inside)
        assert row["opendss_losses_kw"] == pytest.approx(truth[state]["losses_kw"], rel=1e-3)
    text = " ".join(res.output.split())
    assert re.search(r"│ status │ +feasible │", text) and "feasible by OpenDSS" in text
    page = (folder / "report.html").read_text()
    assert re.search(r"why feasible by OpenDSS \(the model&#x27;s ratings admit no "
                     r"topology\)</th><td>feasible by OpenDSS", page)
    assert re.findall(r"class=\"status (\w+)\"", page) == ["feasible"]

    # --no-ac-check: the same answer, judged by the ranking's OpenDSS solve: exit 0
    res = CliRunner().invoke(app, ["solve", str(path), "--no-ac-check", "--json",
                                   str(tmp_path / "n.json"), "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "n.json").read_text())
    assert doc["status"] == "feasible" and frozenset(doc["open_switches"]) == best


@pytest.mark.parametrize("ac_check", [True, False])
def test_a_bridge_overload_is_named_and_exits_4(tmp_path: Path, ac_check: bool) -> None:
    """``L0`` (a bridge) above its rating in every state: its rating is left out of the
    search (``fixed_overloads``), the others still admit no topology in the model, OpenDSS
    puts two states within every rating that switching changes: status ``feasible``, and the
    bridge's overload is named as no switching relieving it, exit 4, as for any answer with
    such an overload; without the check, from the ranking's OpenDSS solve."""
    from feederopt.cli.app import EXIT_INFEASIBLE

    path = _feeder(tmp_path, BRIDGE_OVER)
    truth = _truth(path)
    assert all(float(r["l0"]) > 100.0 for r in truth.values())
    inside = {s: r for s, r in truth.items()
              if r["volts_ok"] and _largest(r, ("l0",)) <= 100.0}
    best = min(inside, key=lambda s: float(inside[s]["losses_kw"]))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["solve", str(path), "--json", str(out), "--time-limit",
                                   "60", *([] if ac_check else ["--no-ac-check"])])
    assert res.exit_code == EXIT_LIMITS_BROKEN != EXIT_INFEASIBLE, res.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "feasible" and frozenset(doc["open_switches"]) == best
    assert [f.split(" (")[0] for f in doc["fixed_overloads"]] == ["l0"]
    assert doc["opendss_fixed_overloads"] == ["Line.l0"]
    pct = float(truth[best]["l0"])
    assert "(Line.l0: above the rating whatever the switches, opendss_fixed_overloads)" \
        in doc["reason"]
    note = next(n for n in doc["notes"] if "(opendss_fixed_overloads);" in n)
    assert note.startswith(f"Line.l0 ({pct:.1f} %): ")
    text = " ".join(res.output.split())
    assert "no switching relieves Line.l0 (no switch changes its flow" in text, text
    if not ac_check:
        assert "OpenDSS's solve of the answer in its ranking of the radial states (no AC " \
            "check ran: --no-ac-check) puts this above 100 % of its rating" in note
        assert f"OpenDSS's ranking of the radial states: OpenDSS's currents of the answer " \
            f"load Line.l0 ({pct:.1f} %)" in text
