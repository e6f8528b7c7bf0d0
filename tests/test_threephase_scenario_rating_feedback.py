"""The scenarios' voltage feedback tightens a rating per scenario, as the single operating
point's does: where OpenDSS's solution of scenario ``s`` at an answer puts a switched element
``e`` above its rating while the lossless LinDist3Flow flow keeps it, the next MILPs hold ``e``
in scenario ``s`` to its rating times ``f_e,s = L_model,s / L_OpenDSS,s``.

The feeder is the 12.47 kV ring of ``tests/test_threephase_voltage_limits.py`` (``head`` from
the source to ``m``, the ring ``m-a1-a2-x-b2-b1-m`` with switches ``s1`` a1-a2, ``s2`` a2-x,
``s3`` x-b2, ``s4`` b2-b1, ``s1`` open in the base case, one radial state per open switch)
with the line ``ma`` (m-a1) rated ``NormAmps=210``, written here. Two scenarios: ``full`` (the
file's loads: ``x`` at 1800 kW) and ``x_light`` (``x`` at 200 kW), weights 0.5 each. In
``full`` with ``s3`` or ``s4`` open, ``ma`` feeds ``a1``, ``a2`` and ``x``: LinDist3Flow
keeps it within 210 A, OpenDSS's currents put it near 103 %; in ``x_light`` it carries about
60 %.

The truths are computed here without feederopt code:

* OpenDSS's own solution (``opendssdirect``) of the script with each radial state and each
  scenario's load written into it: losses (the source's power less the loads'), every node's
  voltage (0.9-1.1 p.u. of 12.47 kV / sqrt 3) and every line's largest phase current over its
  ``NormAmps``. The expected answer is the state of least weighted OpenDSS losses among those
  within the voltage limits and every rating in both scenarios (brute force over the four).
* ``L_model``: LinDist3Flow is lossless and its loads here are constant power (``model=1``),
  so the flow of ``ma`` on each phase is the sum of the loads it feeds on that phase (a
  three-phase load a third per phase), and the MILP's 12-sided rating rows see
  ``max_t (p cos t + q sin t) / s_max`` over ``t = 2 pi j / 12`` with ``s_max = V_b I_max``
  (``V_b`` 12.47 kV / sqrt 3, ``I_max`` 210 A): a hand computation.

The last test rates ``ma`` 100 A and ``mb`` 210 A, so that the base topology's factor leaves
the first MILP no topology: it is solved again without the factors, as in the single case.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import opendssdirect as dss
import polars as pl
import pytest

from feederopt.algorithms.threephase import reconfigure_three_phase_scenarios
from feederopt.api_threephase import scenario_networks, scenario_rows, solve_three_phase
from feederopt.cases import load_three_phase
from opendss_plain import active_line_loadings, solve_script
from test_threephase_voltage_limits import FEEDER

SWITCHES = ("s1", "s2", "s3", "s4")
V_BASE = 12470 / math.sqrt(3)  # [V], line to neutral
I_MAX = 210.0  # [A], ma's NormAmps
RATED = FEEDER.replace("New Line.ma Phases=3 Bus1=m Bus2=a1 LineCode=lowr Length=12 units=kft",
                       "New Line.ma Phases=3 Bus1=m Bus2=a1 LineCode=lowr Length=12 units=kft "
                       f"NormAmps={I_MAX:g}")
assert RATED != FEEDER

#: name: (weight, x's kW, x's kvar)
SCENARIOS = {"full": (0.5, 1800.0, 360.0), "x_light": (0.5, 200.0, 40.0)}
#: the loads of the file: bus: (kW, kvar, phases it sits on)
LOADS = {"a1": (800.0, 160.0, (1, 2, 3)), "a2": (600.0, 120.0, (1,)),
         "x": (1800.0, 360.0, (1, 2, 3)), "b2": (600.0, 120.0, (2,)),
         "b1": (800.0, 160.0, (1, 2, 3))}
#: the buses that ``ma`` (``mb``) feeds with each switch open (the ring m-a1-a2-x-b2-b1-m:
#: the buses between the line and the open switch)
FED_BY = {"ma": {"s1": ("a1",), "s2": ("a1", "a2"), "s3": ("a1", "a2", "x"),
                 "s4": ("a1", "a2", "x", "b2")},
          "mb": {"s1": ("b1", "b2", "x", "a2"), "s2": ("b1", "b2", "x"), "s3": ("b1", "b2"),
                 "s4": ("b1",)}}


def _feeder(tmp_path: Path) -> Path:
    path = tmp_path / "ring_rated.dss"
    path.write_text(RATED)
    return path


def _table() -> pl.DataFrame:
    return pl.DataFrame([(n, "load", "x", p / 1000, q / 1000, w)
                         for n, (w, p, q) in SCENARIOS.items()],
                        schema=["scenario", "kind", "element", "p_mw", "q_mvar", "weight"],
                        orient="row")


def _script(switch: str, name: str, feeder: str = RATED) -> str:
    _, kw, kvar = SCENARIOS[name]
    s = feeder.replace("Open Line.s1 term=2", f"Open Line.{switch} term=2")
    s, n = re.subn(r"(New Load\.x .*?)kW=\S+ kvar=\S+", rf"\g<1>kW={kw:g} kvar={kvar:g}", s)
    assert n == 1
    return s


def _opendss(switch: str, name: str, folder: Path, feeder: str = RATED,
             ) -> tuple[float, float, float, dict[str, float]]:
    """OpenDSS's losses [kW], lowest and highest node voltage [p.u.] and every line's loading
    [% of NormAmps] of the radial state ``switch`` open in scenario ``name`` (of ``feeder``)."""
    solve_script(_script(switch, name, feeder), folder, "truth.dss")
    source = -float(dss.Circuit.TotalPower()[0])
    loads = 0.0
    for ld in dss.Loads.AllNames():
        dss.Loads.Name(ld)
        loads += float(np.sum(dss.CktElement.Powers()[0::2]))
    mags = []
    for bus in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(bus)
        mags += list(np.asarray(dss.Bus.VMagAngle(), float)[0::2] / V_BASE)
    return source - loads, min(mags), max(mags), active_line_loadings()


def _truth(folder: Path) -> dict[str, dict[str, tuple[float, float, float, dict[str, float]]]]:
    return {sw: {n: _opendss(sw, n, folder) for n in SCENARIOS} for sw in SWITCHES}


def _expected(truth: dict[str, dict[str, tuple[float, float, float, dict[str, float]]]],
              ratings: bool = True) -> str:
    """The state of least weighted OpenDSS losses within the voltage limits (and, with
    ``ratings``, every line's rating) in both scenarios."""
    ok = [sw for sw in SWITCHES
          if all(lo >= 0.9 and hi <= 1.1 and (not ratings or max(load.values()) <= 100.0)
                 for _, lo, hi, load in truth[sw].values())]
    return min(ok, key=lambda sw: sum(SCENARIOS[n][0] * truth[sw][n][0] for n in SCENARIOS))


def model_loading_ma(switch: str, name: str, line: str = "ma", i_max: float = I_MAX,
                     ) -> float:
    """``L_model`` of ``line`` (``ma``, ``mb``; rated ``i_max`` [A]) (hand computation,
    module docstring): the largest over the phases of ``max_t (p cos t + q sin t) / (V_b
    I_max)`` with ``p, q`` the phase's sum of the constant-power loads that it feeds."""
    p = dict.fromkeys((1, 2, 3), 0.0)
    q = dict.fromkeys((1, 2, 3), 0.0)
    for bus in FED_BY[line][switch]:
        kw, kvar, phases = LOADS[bus]
        if bus == "x":
            kw, kvar = SCENARIOS[name][1:]
        for ph in phases:
            p[ph] += kw / len(phases)
            q[ph] += kvar / len(phases)
    th = 2 * np.pi * np.arange(12) / 12
    s_max = V_BASE * i_max / 1000.0  # [kVA] per phase
    return max(float(np.max(p[ph] * np.cos(th) + q[ph] * np.sin(th))) for ph in p) / s_max


def test_scenario_feedback_tightens_the_rating_of_its_scenario(tmp_path: Path) -> None:
    truth = _truth(tmp_path)
    expected = _expected(truth)
    volts_only = _expected(truth, ratings=False)
    # the premises: the least weighted loss within the voltage limits overloads ma in full
    # only (the lossless model keeps it there), the head line (a bridge) is within its rating
    assert volts_only != expected
    assert truth[volts_only]["full"][3]["ma"] > 101.0
    assert model_loading_ma(volts_only, "full") < 1.0
    assert max(truth[volts_only]["x_light"][3].values()) < 100.0
    assert all(truth[sw][n][3]["head"] < 100.0 for sw in SWITCHES for n in SCENARIOS)

    out = solve_three_phase(str(_feeder(tmp_path)), scenarios=_table())
    assert list(out.open_switches) == [expected]
    sc = out["scenarios"]
    assert sc["within_thermal_limits"] is True and sc["within_voltage_limits"] is True
    for row in sc["per_scenario"]:
        assert row["opendss_losses_kw"] == pytest.approx(truth[expected][row["scenario"]][0],
                                                         rel=1e-3)
    fb = out.voltage_feedback
    answers = [r for r in fb.iterations if r["topology"] == "answer"]
    first = answers[0]["open_switches"]
    assert len(first) == 1 and answers[0]["rating_factors"] == {"full": {}, "x_light": {}}
    (sw,) = first
    # the first answer is one that OpenDSS finds above ma's rating in full only
    assert truth[sw]["full"][3]["ma"] > 100.0 and max(truth[sw]["x_light"][3].values()) < 100
    assert answers[0]["within_limits"] is False and answers[0]["within_voltage_limits"]
    # the next MILP holds ma in full to f = L_model / L_OpenDSS, x_light untightened
    factor = model_loading_ma(sw, "full") / (truth[sw]["full"][3]["ma"] / 100.0)
    tight = answers[1]["rating_factors"]
    assert set(tight) == set(SCENARIOS) and tight["x_light"] == {}
    assert list(tight["full"]) == ["Line.ma"]
    assert tight["full"]["Line.ma"] == pytest.approx(factor, rel=1e-3)
    assert fb.record["rating_factors"] == tight
    assert fb.record["within_limits"] is True
    assert fb.iterations[fb.kept_iteration]["open_switches"] == [expected]


def test_rating_factors_apply_to_their_scenario_only(tmp_path: Path) -> None:
    """``reconfigure_three_phase_scenarios(rating_factors=)``: ``ma`` at 0.9 of its rating
    in ``full`` excludes the states where the model loads it above 0.9 in ``full``; the same
    factor in ``x_light``, where the model loads ``ma`` below 0.9 in every state, changes
    nothing."""
    net = load_three_phase(_feeder(tmp_path))
    rows = scenario_rows(net, _table())
    nets = scenario_networks(net, rows)
    kw = {"thermal_limits": True, "time_limit_s": 30.0, "names": rows.names}
    plain = reconfigure_three_phase_scenarios(nets, rows.weights, **kw)
    light = reconfigure_three_phase_scenarios(nets, rows.weights, **kw,
                                              rating_factors=[{}, {"ma": 0.9}])
    full = reconfigure_three_phase_scenarios(nets, rows.weights, **kw,
                                             rating_factors=[{"ma": 0.9}, {}])
    # the premises, by hand: 0.9 binds some states in full (the plain answer among them),
    # none in x_light
    assert all(model_loading_ma(sw, "x_light") < 0.9 for sw in SWITCHES)
    (got,) = plain.open_switches
    assert model_loading_ma(got, "full") > 0.9
    assert light.open_switches == plain.open_switches
    (tight,) = full.open_switches
    assert model_loading_ma(tight, "full") <= 0.9


#: ``ma`` rated 100 A and ``mb`` (m-b1) 210 A: the model keeps ``ma`` only with ``s1`` open
#: (``a1`` alone behind it), where ``mb`` feeds ``a2``, ``x``, ``b2`` and ``b1`` and OpenDSS
#: puts it above 210 A in ``full`` while LinDist3Flow keeps it.
MB_RATED = RATED.replace(f"NormAmps={I_MAX:g}", "NormAmps=100").replace(
    "New Line.mb Phases=3 Bus1=m Bus2=b1 LineCode=highr Length=8 units=kft",
    "New Line.mb Phases=3 Bus1=m Bus2=b1 LineCode=highr Length=8 units=kft NormAmps=210")
assert MB_RATED.count("NormAmps") == 2


def test_tightened_ratings_without_a_first_answer_fall_back(tmp_path: Path) -> None:
    """The base topology ``s1``, the only state the model keeps within ``ma``'s 100 A, is
    above ``mb``'s rating in OpenDSS in ``full``: the factor found there leaves the first MILP
    no topology, and, as in the single case, that MILP is solved again without it."""
    # the premises, by hand and by OpenDSS
    assert all(model_loading_ma(sw, n, "ma", 100.0) > 1.0 for sw in ("s2", "s3", "s4")
               for n in SCENARIOS)
    assert model_loading_ma("s1", "full", "ma", 100.0) < 1.0
    l_model = model_loading_ma("s1", "full", "mb", 210.0)
    assert l_model < 1.0
    _, lo, hi, load = _opendss("s1", "full", tmp_path, MB_RATED)
    assert load["mb"] > 100.0 and lo >= 0.9 and hi <= 1.1
    assert max(_opendss("s1", "x_light", tmp_path, MB_RATED)[3].values()) < 100.0
    factor = l_model / (load["mb"] / 100.0)

    path = tmp_path / "ring_mb.dss"
    path.write_text(MB_RATED)
    # that factor in full leaves the scenario MILP without a topology
    net = load_three_phase(path)
    rows = scenario_rows(net, _table())
    nets = scenario_networks(net, rows)
    none = reconfigure_three_phase_scenarios(nets, rows.weights, time_limit_s=30.0,
                                             names=rows.names,
                                             rating_factors=[{"mb": factor}, {}])
    assert none.status == "infeasible" and none.flow is None

    out = solve_three_phase(str(path), scenarios=_table())
    assert list(out.open_switches) == ["s1"]
    fb = out.voltage_feedback
    answers = [r for r in fb.iterations if r["topology"] == "answer"]
    # the first MILP had the base topology's factor (and answered without it)
    assert answers[0]["open_switches"] == ["s1"]
    assert answers[0]["rating_factors"]["x_light"] == {}
    assert answers[0]["rating_factors"]["full"]["Line.mb"] == pytest.approx(factor, rel=1e-3)
    assert answers[0]["within_limits"] is False
    assert fb.record["rating_factors"] == answers[0]["rating_factors"]
