"""The limits verdict of scenario runs, per-scenario AC power flows, and the scenario reader's
kind rules (user test ut_uncert #1, #3, #4, #5)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from feederopt.errors import InputError
from feederopt.io.scenarios import resolve_scenarios
from netbuild import tiny


def _scen(rows: list[tuple], kind: bool = True) -> pl.DataFrame:
    cols = ["scenario", "kind", "element", "p_mw", "q_mvar", "weight"]
    if not kind:
        cols = ["scenario", "element", "p_mw", "q_mvar", "weight"]
    return pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def test_a_scenario_no_topology_can_supply_makes_the_run_infeasible() -> None:
    """Tiny (12.66 kV, v_min 0.9): scenario ``big`` puts 40 MW + 20 MVAr on load Lc. Bus c is
    fed either over l1-l2-l3 (r 1.2, x 0.8 Ohm) or over the tie (r 1.0, x 0.8 Ohm); even the
    lossless LinDistFlow voltage, which lies above DistFlow's for a passive feeder, is
    v_c^2 = 1 - 2 (r P + x Q) / V^2 = 1 - 2 (1.0 * 40 + 0.8 * 20) / 12.66^2 = 0.301 on the
    better path, far below 0.9^2 = 0.81 (by hand). So no topology meets the limits: the old
    code said optimal and within_limits true."""
    import feederopt

    net = tiny().check()
    table = _scen([("ok", "load", "La", 0.2, 0.1, 1.0), ("big", "load", "Lc", 40.0, 20.0, 1.0)])
    r = feederopt.solve(net, scenarios=table, time_limit=60, workers=1)
    assert not r.within_limits
    assert r.status.value == "infeasible"
    d = r.to_dict()
    assert d["infeasible_scenario"] == "big"
    assert d["diagnosis"] and {e["scenario"] for e in d["diagnosis"]} == {"big"}
    assert all(e["unit"] for e in d["diagnosis"])
    rows = {s["scenario"]: s for s in d["scenarios"]}
    assert rows["ok"]["ac"]["within_limits"] is True
    # the AC power flow at 40 MW diverges or breaks v_min: either way not within the limits
    assert rows["big"]["ac"]["within_limits"] is False
    assert d["headline_load"] == "nominal"


def test_scenario_ac_matches_pandapower_case33bw() -> None:
    """One PV of 0.3 MW added at bus 18 of pandapower's own case33bw (built here, not through
    feederopt), lines 7, 9, 14, 32, 37 open: pandapower's losses and voltages are those of
    scenario_ac at the same per-bus net demand."""
    import pandapower as pp
    import pandapower.networks as pn

    import feederopt
    from feederopt.validation.scenario_ac import scenario_ac

    ref = pn.case33bw()
    ref.line["in_service"] = True
    for k in (7, 9, 14, 32, 37):
        ref.line.at[k - 1, "in_service"] = False
    pp.create_load(ref, 17, p_mw=-0.3, q_mvar=0.0)  # bus "18" is pandapower bus 17
    pp.runpp(ref)
    want_loss = float(ref.res_line.pl_mw.sum() * 1000)

    net = feederopt.load("case33bw")
    table = _scen([("a", "bus", "18", -0.3, 0.0, 1.0)])
    sset = resolve_scenarios(net, table)
    ids = [str(b) for b in net.branches.filter(pl.col("in_service"))["id"].to_list()]
    closed = np.array([b not in {"7", "9", "14", "32", "37"} for b in ids])
    ac = scenario_ac(net, closed, sset.bus_ids, sset.p_mw[0], sset.q_mvar[0])
    assert ac.converged
    assert ac.losses_kw == pytest.approx(want_loss, rel=1e-6)
    assert ac.min_voltage_pu == pytest.approx(float(ref.res_bus.vm_pu.min()), abs=1e-8)
    assert not ac.violations  # Vmin about 0.945 > 0.9
    # the cached model's loads are restored: the nominal power flow is unchanged
    # (a fresh object's power flow: the same object's twice could not tell, ut44_nb)
    again = feederopt.ac_power_flow(net, closed)
    fresh = feederopt.ac_power_flow(feederopt.load("case33bw"), closed)
    assert math.isclose(again.losses_kw, fresh.losses_kw, rel_tol=1e-9)
    assert not math.isclose(again.losses_kw, ac.losses_kw)


def _shared_ids_net():
    from netbuild import tiny_tables

    tabs = tiny_tables()
    tabs["loads"] = tabs["loads"].with_columns(pl.Series("id", ["b", "Lb", "Lc", "Ld"]))
    return tiny(**{"loads": tabs["loads"]}).check()  # load "b" sits at bus a; bus b exists


def test_a_kindless_row_on_an_id_that_is_a_load_and_a_bus_is_refused() -> None:
    net = _shared_ids_net()
    with pytest.raises(InputError) as exc:
        resolve_scenarios(net, _scen([("x", "b", -0.3, 0.0, 1.0)], kind=False))
    text = str(exc.value.problems[0])
    assert "both a load id and a bus id" in text and "[b]" in text


def test_a_kindless_row_takes_its_kind_from_der() -> None:
    net = _shared_ids_net()
    df = pl.DataFrame({"scenario": ["x", "x"], "element": ["b", "b"], "der": ["pv", "load"],
                       "p_mw": [-0.3, 0.4], "q_mvar": [0.0, 0.0], "weight": [1.0, 1.0]})
    s = resolve_scenarios(net, df)
    p = dict(zip(s.bus_ids, s.p_mw[0], strict=True))
    assert p["a"] == pytest.approx(0.4)  # load b (at bus a) replaced by 0.4
    assert p["b"] == pytest.approx(0.3 - 0.3)  # load Lb 0.3 plus the PV's -0.3 at bus b


def test_negative_demand_on_a_load_row_is_refused() -> None:
    net = tiny().check()
    with pytest.raises(InputError) as exc:
        resolve_scenarios(net, _scen([("x", "load", "Lc", -0.5, 0.0, 1.0)]))
    text = str(exc.value.problems[0])
    assert "negative demand" in text and "x/Lc" in text


def test_negative_seed_is_a_typed_problem_and_no_emoji(tmp_path) -> None:
    """ut_uncert #7, #8: ``--seed -1`` crashed with exit 1 (numpy's ValueError)."""
    from typer.testing import CliRunner

    from feederopt.cli import app
    from feederopt.cli.app import stderr, stdout

    res = CliRunner().invoke(app, ["scenarios", "case33bw", "--out",
                                   str(tmp_path / "g.csv"), "--count", "3", "--seed", "-1"])
    assert res.exit_code == 2 and "seed" in res.output
    import io

    for console in (stdout(), stderr()):  # ":1234:" stays text (it was the emoji 1234)
        console.file = io.StringIO()
        console.print("nonsense_host:1234: Name or service not known", markup=False)
        assert "nonsense_host:1234:" in console.file.getvalue()


def test_an_milp_proof_lists_the_scenario_in_unsupplied_scenarios() -> None:
    """case33bw (too many radial topologies to enumerate, so the MILP proves it), scenario
    ``big``: 150 MW + 75 MVAr at bus 2, which line 1 (r 0.0922, x 0.047 Ohm, the only branch
    at the source bus 1) alone feeds. Even the lossless LinDistFlow voltage, above DistFlow's
    on a passive feeder, is v_2^2 = 1 - 2 (0.0922 * 150 + 0.047 * 75) / 12.66^2 = 0.784 <
    0.9^2 (by hand): no topology supplies it. README: the scenarios no topology supplies are
    listed in ``unsupplied_scenarios``; an MILP proof set only ``infeasible_scenario``
    (ut46_scen #1)."""
    import feederopt

    net = feederopt.load("case33bw")
    assert 1 - 2 * (0.0922 * 150 + 0.047 * 75) / 12.66**2 < 0.9**2
    table = _scen([("ok", "load", "2", 0.1, 0.06, 1.0), ("big", "load", "2", 150.0, 75.0, 1.0)])
    r = feederopt.solve(net, scenarios=table, time_limit=5, workers=1, ac_check=False)
    d = r.to_dict()
    assert d["status"] == "infeasible"
    assert d["infeasible_scenario"] == "big"
    assert d["unsupplied_scenarios"] == ["big"]
    assert "MILP" in d["infeasible_reason"] and "None" not in d["infeasible_reason"]
