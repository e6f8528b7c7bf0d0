"""The partition's feedback acts on line and transformer overloads too (branchfb;
docs/partition-ac-check.md, "Branch overloads start a round").

The feedback re-solved for voltages and DER ratings: a plan whose OpenDSS flow at the nominal
load held every voltage but had a line over its current rating stopped at once ("the feedback
re-solves for voltages and DER ratings, not branch ratings") and exited 4, although a model
holding that line lower would have moved load to another DER. The model holds a line's
per-phase flow by ``|s| <= s_max = V_b I_max`` at 1 p.u. (lossless), while OpenDSS's current
is ``|s| / |V|`` at the line's lower end, so a plan at the rating in the model is a little over
it in OpenDSS. Now such an overload starts a round (the line's rating in the model tightened
by the ratio of OpenDSS's current to the rating, ``BranchCuts``), within the round cap.

The feeder: one microgrid, a cheap grid-forming G1 at b1 and a 150 kW load 9 km away at b2,
with a dearer grid follower G2 (60 kW) beside the load; the line's ``normamps`` (17 A) lets the
model carry 122.6 kW from G1 at 1 p.u. The truth is OpenDSS driven here (opendssdirect): the
file with the substation switch open, G1 a stiff source at the round's set-point and G2's
phases at the outputs the round reports, and the line's rating as written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.algorithms.partition import (
    BRANCH_MARGIN,
    BranchCuts,
    branch_model_ids,
    within_voltage_stop,
)
from feederopt.api_partition import _network_and_settings, partition_data, result_plan_data
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.validation.partition import nominal_check_text, round_reason_text

runner = CliRunner()

NORMAMPS = 17.0
FEEDER = f"""Clear
New Circuit.bfb basekv=4.16 pu=1.0 phases=3 bus1=sourcebus
New Linecode.lc nphases=3 r1=0.1 x1=0.4 r0=0.3 x0=1.2 units=km
New Line.swsub phases=3 bus1=sourcebus bus2=b1 switch=y
New Line.l12 phases=3 bus1=b1 bus2=b2 linecode=lc length=9 units=km normamps={NORMAMPS:g}
New Load.L2 phases=3 bus1=b2 kv=4.16 kw=150 kvar=0 model=1
New Generator.G1 phases=3 bus1=b1 kv=4.16 kw=200 kva=220
New Generator.G2 phases=3 bus1=b2 kv=4.16 kw=60 kva=60
Set voltagebases=[4.16]
Calcv
Solve
"""
SETTINGS = {"dss": {"Generator.G1": {"inverter": "gfm", "cost": [1, 0]},
                    "Generator.G2": {"inverter": "gfl", "cost": [5, 0]}}}


def _line_amps(feeder: Path, v_set: float, followers: dict[str, tuple[float, float]]
               ) -> tuple[float, list[float]]:
    """OpenDSS's own flow of the island: the substation's switch open, G1 a stiff source at
    ``v_set`` p.u. at b1, G2's phases at ``followers`` ({"a": (kW, kvar)}). Returns the
    largest phase current of Line.l12 at either end [A] and the phase voltages of b1 and b2
    [p.u.]."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{feeder}"')
        dss.Text.Command("Open Line.swsub term=1")
        dss.Text.Command("Generator.G1.enabled=no")
        dss.Text.Command("Generator.G2.enabled=no")
        dss.Text.Command(f"New Vsource.g1 bus1=b1 phases=3 basekv=4.16 pu={v_set} angle=0 "
                         "MVAsc3=1e6 MVAsc1=1e6")
        for ph, (kw, kvar) in followers.items():
            dss.Text.Command(f"New Generator.f{ph} bus1=b2.{'abc'.index(ph) + 1} phases=1 "
                             f"kV={4.16 / math.sqrt(3)} model=1 kW={kw} kvar={kvar} "
                             "Vminpu=0.1 Vmaxpu=10")
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        dss.Circuit.SetActiveElement("Line.l12")
        amps = float(max(np.asarray(dss.CktElement.CurrentsMagAng(), float)[0::2]))
        volts: list[float] = []
        for bus in ("b1", "b2"):
            dss.Circuit.SetActiveBus(bus)
            volts += list(np.asarray(dss.Bus.VMagAngle(), float)[0::2][:3]
                          / (4160 / math.sqrt(3)))
    finally:
        os.chdir(cwd)
    return amps, volts


def _g2_outputs(row: dict) -> dict[str, tuple[float, float]]:
    return {ph: (row["opendss_der_kw"][f"Generator.g2.{ph}"],
                 row["opendss_der_kvar"][f"Generator.g2.{ph}"]) for ph in "abc"}


@pytest.fixture(scope="module")
def corrected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, int]:
    tmp = tmp_path_factory.mktemp("branchfb")
    feeder, settings = tmp / "bfb.dss", tmp / "bfb.json"
    feeder.write_text(FEEDER)
    settings.write_text(json.dumps(SETTINGS))
    out = tmp / "p.json"
    result = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                                 "--time-limit", "60", "--json", str(out)])
    return feeder, out, json.loads(out.read_text()), result.exit_code


def test_a_line_overload_starts_a_round_and_the_kept_plan_holds_it_in_opendss(corrected
                                                                             ) -> None:
    feeder, _, doc, code = corrected
    vf = doc["voltage_feedback"]
    rounds = vf["rounds"]
    first = rounds[0]
    # round 0's check: every voltage within its limits, the line over its rating; before
    # branchfb the feedback stopped there and the run exited 4
    assert first["within_voltage_limits"] and not first["der_breaches"]
    assert any(b.startswith("Line.l12") for b in first["branch_overloads"])
    # round 0's plan against OpenDSS's own flow: the line slightly over its 17 A
    amps0, v0 = _line_amps(feeder, first["grid_forming"]["Generator.g1"], _g2_outputs(first))
    assert NORMAMPS < amps0 < 1.05 * NORMAMPS
    assert all(0.9 <= v <= 1.1 for v in v0)
    # the rounds: within the cap, each saying why it ran, the cut recorded
    assert len(rounds) >= 2 and code == 0, vf["stopped"]
    assert vf["re_solves"] == len(rounds) - 1 <= 4
    assert first["ran_for"] == ["the first plan"] and first["largest_branch_cut"] == 0.0
    assert any(w.startswith("Line.l12") for w in rounds[1]["ran_for"])
    assert rounds[1]["largest_branch_cut"] > 0.0
    # the plan kept holds every limit in OpenDSS: the line within its rating, every node
    # within 0.9-1.1 p.u., the whole load served (G2 takes more of it)
    kept = rounds[vf["kept_round"]]
    assert vf["kept_round"] == len(rounds) - 1 and not kept["branch_overloads"]
    amps, v = _line_amps(feeder, kept["grid_forming"]["Generator.g1"], _g2_outputs(kept))
    assert amps <= NORMAMPS * (1 + 1e-6)
    assert all(0.9 <= x <= 1.1 for x in v)
    assert doc["served_load_kw"] == pytest.approx(150.0)
    assert sum(_g2_outputs(kept)[ph][0] for ph in "abc") \
        > sum(_g2_outputs(first)[ph][0] for ph in "abc")
    assert doc["within_limits"] is True and vf["stopped"] == "within limits"
    # the tightening is stored (the share of the rating cut), the file's rating reported
    assert 0.0 < vf["branch_cuts"]["Line.l12"] < 0.05
    assert "17.0 A" not in json.dumps(doc.get("violations") or [])


def test_check_rebuilds_the_tightened_model(corrected) -> None:
    _, out, doc, _ = corrected
    result = runner.invoke(app, ["check", str(out), "--samples", "1"])
    assert result.exit_code == 0, result.output
    net, st, _, _ = _network_and_settings(doc["inputs"]["source"], doc["inputs"]["settings"],
                                          None, None, None, [])
    data = partition_data(net, st)
    tight = result_plan_data(doc, data)
    k = 1.0 - doc["voltage_feedback"]["branch_cuts"]["Line.l12"]
    (edge,) = [e for e in data.pu.edges if e.id == "l12"]
    (held,) = [e for e in tight.model_pu(tight.pu).edges if e.id == "l12"]
    assert held.s_max_pu == pytest.approx(k * edge.s_max_pu)
    # the file's rating itself is kept
    (same,) = [e for e in tight.pu.edges if e.id == "l12"]
    assert same.s_max_pu == edge.s_max_pu
    # a cut naming a line the feeder does not rate is a typed problem (exit 2 in `check`)
    bad = dict(doc["voltage_feedback"], branch_cuts={"Line.l99": 0.01})
    with pytest.raises(InputError, match=r"Line\.l99"):
        result_plan_data(dict(doc, voltage_feedback=bad), data)
    bad = dict(doc["voltage_feedback"], branch_cuts={"Line.l12": 1.5})
    with pytest.raises(InputError, match=r"branch_cuts"):
        result_plan_data(dict(doc, voltage_feedback=bad), data)


def test_the_cut_rule_and_what_it_cannot_correct() -> None:
    """BranchCuts.update on records of the AC check's form, against the rule worked by hand
    (docs/partition-ac-check.md): k <- min(k / r - m, k - (r - 1 + m) / s) with the secant
    slope s of the last round (only when it moved the loading), m = BRANCH_MARGIN."""
    known = {"line.l1": "l1", "transformer.t": "t"}
    m = BRANCH_MARGIN

    def rec(name: str, pct: float, limit: float = 100.0) -> dict:
        return {"name": name, "loading_pct": pct, "limit_pct": limit, "amps": 0.0,
                "rating_a": 1.0}

    cuts = BranchCuts()
    fixed, left = cuts.update([rec("Line.l1", 102.0)], known)
    assert fixed == ["Line.l1 102.0 % of its rating"] and not left
    assert cuts.scale["Line.l1"] == pytest.approx(1 / 1.02 - m)
    # at a --max-loading of 120 % the loading is judged against 120 %
    cuts.update([rec("Transformer.T", 126.0, 120.0)], known)
    assert cuts.scale["Transformer.T"] == pytest.approx(1 / 1.05 - m)
    # the next round: the cut moved OpenDSS's loading from 1.02 to 1.01 only; the secant
    # (slope 0.01 / 0.0206) aims at 1 - m, beyond the proportional step
    k1 = cuts.scale["Line.l1"]
    cuts.update([rec("Line.l1", 101.0)], known)
    slope = (1.02 - 1.01) / (1.0 - k1)
    assert cuts.scale["Line.l1"] == pytest.approx(k1 - (1.01 - 1 + m) / slope)
    assert cuts.scale["Line.l1"] < k1 / 1.01 - m
    assert cuts.largest == pytest.approx(100 * (1 - min(cuts.scale.values())))
    # what no cut can correct: a branch the model does not rate, a cut beyond the rating
    before = dict(cuts.scale)
    fixed, left = cuts.update([rec("Line.l9", 110.0), rec("Transformer.T", 1e6)], known)
    assert not fixed and len(left) == 2
    assert "Line.l9" in left[0] and "does not rate" in left[0] and "no capacity" in left[1]
    assert cuts.scale == before
    # the cuts round-trip through the result JSON's form
    assert BranchCuts.from_dict(cuts.nonzero()).scale == pytest.approx(cuts.scale)


def test_the_stop_says_why_an_overload_stands() -> None:
    text = within_voltage_stop([], ["Line.l9 20.0 A over its 17.0 A rating (117.6 %)"],
                               ["Line.l9: a branch the model does not rate"])
    assert text.startswith("voltages within limits") and "Line.l9" in text
    assert "not correctable in the model: Line.l9: a branch the model does not rate" in text
    assert "not branch ratings" not in text
    # the console's "solved for" counts the branches tightened
    assert round_reason_text({"ran_for": ["voltages 0.89-1.0 p.u. outside the limits",
                                          "Line.l12 100.5 % of its rating"]}) \
        == "voltages, branch ratings (1)"


def test_the_validity_text_says_why_a_kept_overload_stands() -> None:
    row = {"round": 0, "within_voltage_limits": True, "opendss_converged": True,
           "der_breaches": [], "branch_overloads": ["Line.l12 17.1 A over its 17.0 A rating "
                                                    "(100.5 %)"]}
    vf = {"enabled": True, "rounds": [row], "kept_round": 0, "stopped": "round cap",
          "branch_overloads_why": "not corrected by the feedback's re-solves (stopped: "
                                  "round cap)"}
    text = nominal_check_text(vf)
    assert "Line.l12" in text
    assert text.endswith("the branch overload(s) not corrected by the feedback's re-solves "
                         "(stopped: round cap)")


def test_a_transformer_cut_scales_both_windings_in_the_model_only() -> None:
    """tests/data/ut47_part/tiny.dss: the 300 kVA bank T and the 400 A line l12; a cut of
    "Transformer.T" scales the model's ratings of the bank's phases on both windings, and the
    recourse rows hold that (the 12-gon's right-hand side), the file's ratings unchanged."""
    from feederopt.formulations.partition import recourse_block

    data_dir = Path(__file__).parent / "data" / "ut47_part"
    net, st, _, _ = _network_and_settings(str(data_dir / "tiny.dss"),
                                          str(data_dir / "stiny.json"), None, None, None, [])
    data = partition_data(net, st)
    cut = BranchCuts.from_dict({"Transformer.T": 0.25}).apply(data)
    (bank,) = data.pu.banks
    (held,) = cut.model_pu(cut.pu).banks
    assert np.allclose(held.s_max_pri, 0.75 * bank.s_max_pri)
    assert np.allclose(held.s_max_sec, 0.75 * bank.s_max_sec)
    assert cut.pu.banks[0].s_max_pri is bank.s_max_pri  # the file's rating kept
    scale = data.upper_corner()
    rhs0 = recourse_block(data, scale).row("thermal_bank_0").rhs
    rhs1 = recourse_block(cut, scale).row("thermal_bank_0").rhs
    assert np.allclose(rhs1, 0.75 * rhs0) and rhs0.max() > 0
    # the line beside it keeps its rating
    assert np.allclose(recourse_block(cut, scale).row("thermal_0").rhs,
                       recourse_block(data, scale).row("thermal_0").rhs)


def test_a_unit_of_a_bank_names_the_bank() -> None:
    """A bank of single-phase units is one bank of the model ("t1+t2", its units' ids
    joined); OpenDSS names the unit, whose overload cuts the bank. Unrated branches and
    the transformer's own impedance edge are not named."""
    from types import SimpleNamespace

    pu = SimpleNamespace(
        edges=[SimpleNamespace(id="l1", kind="line", s_max_pu=0.1),
               SimpleNamespace(id="l2", kind="line", s_max_pu=None),
               SimpleNamespace(id="t1+t2", kind="transformer", s_max_pu=None)],
        banks=[SimpleNamespace(id="t1+t2", s_max_pri=np.ones(2), s_max_sec=np.ones(2))])
    ids = branch_model_ids(SimpleNamespace(pu=pu), {"l1": "Capacitor.c1"})
    assert ids == {"line.l1": "l1", "capacitor.c1": "l1", "transformer.t1+t2": "t1+t2",
                   "transformer.t1": "t1+t2", "transformer.t2": "t1+t2"}
