"""Distribution OPF with devices (issue 16): Benders = brute force = SCIP MISOCP on a small grid;
bad device data gives typed problems.

The brute force enumerates every radial topology x capacitor step x OLTC position x DG on/off of
the grid in ``dopf_grid`` and solves, for each, a radial DistFlow SOCP written here in cvxpy from
the tables in Ohm, MW and MVAr (Baran & Wu 1989, Farivar & Low 2013), independent of feederopt's
formulation; the flexible loads and the DG dispatch are continuous variables of that SOCP.
"""

from __future__ import annotations

import itertools
import math

import cvxpy as cp
import numpy as np
import polars as pl
import pytest

from dopf_grid import device_grid, device_tables
from feederopt.algorithms.dopf import DopfBenders, DopfOptions, solve_dopf_misocp
from feederopt.formulations.devices import tap_options
from feederopt.network import InputError, Network, ProblemKind
from feederopt.network.devices import ALL_CONTROLS, Control, per_unit_devices
from feederopt.network.perunit import to_per_unit
from feederopt.problems.dopf import DopfProblem

LOSS_PRICE = 100.0  # per MWh


def problem(net: Network, controls: frozenset[Control] = ALL_CONTROLS) -> DopfProblem:
    pu = to_per_unit(net)
    return DopfProblem(pu, per_unit_devices(net, pu, controls), loss_price_per_mwh=LOSS_PRICE)


def socp(tables: dict[str, pl.DataFrame], closed: set[str]) -> tuple[cp.Problem, cp.Parameter,
                                                                    cp.Parameter, cp.Parameter]:
    """The SOCP of one radial topology, with the capacitor step, the squared OLTC ratio and
    the DG status as parameters; its value is the least cost [kW-equivalent]: losses [kW] plus
    (DG energy + fixed DG cost + flexibility) [per h] x 1000 / loss price."""
    step, ratio2, on = cp.Parameter(nonneg=True), cp.Parameter(nonneg=True), cp.Parameter(
        nonneg=True)
    bus = tables["buses"]
    ids = bus["id"].to_list()
    vn = 12.66
    zb = vn**2  # Ohm, at 1 MVA
    br = tables["branches"].filter(pl.col("id").is_in(list(closed)))
    # Orient the tree from the source.
    adj: dict[str, list[tuple[str, float, float]]] = {b: [] for b in ids}
    for r in br.iter_rows(named=True):
        adj[r["from_bus"]].append((r["to_bus"], r["r_ohm"] / zb, r["x_ohm"] / zb))
        adj[r["to_bus"]].append((r["from_bus"], r["r_ohm"] / zb, r["x_ohm"] / zb))
    parent: dict[str, tuple[str, float, float]] = {}
    order, seen = ["s"], {"s"}
    for b in order:
        for c, rr, xx in adj[b]:
            if c not in seen:
                seen.add(c)
                parent[c] = (b, rr, xx)
                order.append(c)
    assert len(seen) == len(ids)
    loads = tables["loads"]
    pd = dict(zip(loads["bus"], loads["p_mw"], strict=True))
    qd = dict(zip(loads["bus"], loads["q_mvar"], strict=True))
    share = dict(zip(loads["bus"], loads["flex_share"], strict=True))
    price = dict(zip(loads["bus"], loads["flex_price_per_mwh"], strict=True))
    gen = tables["generators"].row(0, named=True)
    cap = tables["shunts"].row(0, named=True)
    kids = [b for b in order if b != "s"]
    v = {b: cp.Variable() for b in ids}
    p = {b: cp.Variable() for b in kids}  # sending-end flow into b
    q = {b: cp.Variable() for b in kids}
    ell = {b: cp.Variable(nonneg=True) for b in kids}
    fl = {b: cp.Variable(nonneg=True) for b in kids}
    pg, qg = cp.Variable(), cp.Variable()
    cons = [v["s"] == ratio2, pg >= 0, pg <= gen["p_max_mw"] * on,
            qg >= gen["q_min_mvar"] * on, qg <= gen["q_max_mvar"] * on]
    for b in kids:
        a, rr, xx = parent[b]
        below = [c for c in kids if parent[c][0] == b]
        inj_p = (pg if b == gen["bus"] else 0) + fl[b]
        inj_q = ((qg if b == gen["bus"] else 0) + fl[b] * qd.get(b, 0) / pd[b]
                 if b in pd else (qg if b == gen["bus"] else 0))
        if b == cap["bus"]:
            inj_q = inj_q + step * cap["q_mvar_per_step"] * v[b]
        cons += [
            p[b] - rr * ell[b] == pd.get(b, 0.0) - inj_p + sum(p[c] for c in below),
            q[b] - xx * ell[b] == qd.get(b, 0.0) - inj_q + sum(q[c] for c in below),
            v[b] == v[a] - 2 * (rr * p[b] + xx * q[b]) + (rr**2 + xx**2) * ell[b],
            cp.SOC(v[a] + ell[b], cp.hstack([2 * p[b], 2 * q[b], v[a] - ell[b]])),
            v[b] >= 0.95**2, v[b] <= 1.05**2,
            fl[b] <= share.get(b, 0.0) * pd.get(b, 0.0),
        ]
    losses_kw = 1000 * sum(parent[b][1] * ell[b] for b in kids)
    money = gen["cost_per_mwh"] * pg + gen["fixed_cost_per_h"] * on + sum(
        price.get(b, 0.0) * fl[b] for b in kids)
    return cp.Problem(cp.Minimize(losses_kw + 1000 / LOSS_PRICE * money), cons), step, ratio2, on


def brute_force(tables: dict[str, pl.DataFrame]) -> tuple[float, tuple]:
    """The least cost over every radial topology and discrete device setting (plus the
    tap-change cost, kW per position away from the neutral ratio)."""
    tap_cost = float(tables["buses"]["tap_cost_kw"][0])
    # One loop s-a-b-c-s (tie1 closes it) and sw1 (the only feed of d): the radial
    # topologies open exactly one of l2, l3, tie1 (l1 cannot open).
    every = {"l1", "l2", "l3", "sw1", "tie1"}
    best = (math.inf, ())
    ratios = 1 + 0.025 * np.arange(-2, 3)
    for opened in ("l2", "l3", "tie1"):
        prob, step, ratio2, on = socp(tables, every - {opened})
        for k, ratio, status in itertools.product(range(4), ratios, (0, 1)):
            step.value, ratio2.value, on.value = k, float(ratio) ** 2, status
            prob.solve(solver="CLARABEL")
            cost = float(prob.value) if prob.status == "optimal" else math.inf
            cost += tap_cost * round(abs(float(ratio) - 1.0) / 0.025)
            if cost < best[0]:
                best = (cost, (opened, k, round(float(ratio), 3), bool(status)))
    return best


@pytest.mark.parametrize(("dg_cost", "fixed_cost", "tap_cost", "dg_on"), [
    (0.0, 0.0, 0.0, True), (60.0, 1.0, 0.2, False)])
def test_benders_equals_brute_force_and_scip(dg_cost: float, fixed_cost: float,
                                             tap_cost: float, dg_on: bool) -> None:
    tables = device_tables(dg_cost=dg_cost, fixed_cost=fixed_cost, tap_cost=tap_cost)
    best, setting = brute_force(tables)
    assert setting[3] is dg_on  # the brute force itself shows both DG states
    prob = problem(device_grid(dg_cost=dg_cost, fixed_cost=fixed_cost, tap_cost=tap_cost))
    raw = DopfBenders(prob, DopfOptions()).run()
    assert raw.status.value == "optimal"
    assert raw.objective == pytest.approx(best, rel=2e-4)
    assert raw.lower_bound <= best * (1 + 1e-4)
    opened, step, ratio, on = setting
    assert prob.pu.branch_ids[int(np.flatnonzero(raw.y < 0.5)[0])] == opened
    assert int(np.flatnonzero(raw.point["cap"] > 0.5)[0]) == step
    assert raw.point["on"][0] == float(on)
    _, ratios = tap_options(prob.dev)
    assert ratios[raw.point["tap"] > 0.5][0] == pytest.approx(ratio)
    scip = solve_dopf_misocp(prob)
    assert scip.status.value == "optimal"
    assert scip.objective == pytest.approx(best, rel=2e-4)


def test_raising_the_flexibility_price_lowers_the_flexibility_used() -> None:
    used = []
    for price in (0.1, 5000.0):  # the flexible loads alone (the other devices at base)
        prob = problem(device_grid(flex_price=price), frozenset({Control.FLEX}))
        raw = DopfBenders(prob, DopfOptions()).run()
        used.append(float(raw.point["flex"].sum()))
    assert used[0] > 1e-3
    assert used[1] < used[0] - 1e-3


# ----- bad device data ------------------------------------------------------------------------
def _kinds(tables: dict[str, pl.DataFrame]) -> set[tuple[str, str, str | None]]:
    with pytest.raises(InputError) as err:
        Network.from_tables(**tables, name="bad").check()
    return {(p.kind.value, p.component, p.field) for p in err.value.problems}


def test_a_step_outside_the_bank_is_a_typed_problem() -> None:
    t = device_tables()
    t["shunts"] = t["shunts"].with_columns(pl.lit(5).alias("step"))
    assert ("invalid_value", "shunts", "step") in _kinds(t)


def test_tap_min_above_max_is_a_typed_problem() -> None:
    t = device_tables()
    t["buses"] = t["buses"].with_columns(
        pl.when(pl.col("id") == "s").then(1.1).otherwise(None).alias("tap_min_pu"))
    assert ("inverted_limits", "buses", "tap_min_pu") in _kinds(t)


def test_negative_costs_are_typed_problems() -> None:
    t = device_tables()
    t["generators"] = t["generators"].with_columns(pl.lit(-1.0).alias("fixed_cost_per_h"))
    t["loads"] = t["loads"].with_columns(pl.lit(-5.0).alias("flex_price_per_mwh"))
    kinds = _kinds(t)
    assert ("invalid_value", "generators", "fixed_cost_per_h") in kinds
    assert ("invalid_value", "loads", "flex_price_per_mwh") in kinds


def test_a_device_on_a_missing_bus_is_a_typed_problem() -> None:
    t = device_tables()
    t["shunts"] = t["shunts"].with_columns(pl.lit("nowhere").alias("bus"))
    assert (ProblemKind.UNKNOWN_BUS.value, "shunts", "bus") in _kinds(t)


def test_pandapower_round_trip_keeps_the_devices() -> None:
    """Capacitor banks become shunts with step, max_step and controllable; committable
    generators controllable sgens with OPF limits and a poly_cost; flexible loads controllable
    loads with min_p_mw and a poly_cost; and back."""
    from feederopt.io.pandapower import from_pandapower, to_pandapower

    net = device_grid()
    pp_net = to_pandapower(net)
    assert bool(pp_net.shunt.at[0, "controllable"]) and int(pp_net.shunt.at[0, "max_step"]) == 3
    assert bool(pp_net.sgen.at[0, "controllable"]) and pp_net.sgen.at[0, "max_p_mw"] == 0.3
    cost = pp_net.poly_cost
    assert float(cost[cost["et"] == "sgen"]["cp1_eur_per_mw"].iloc[0]) == 60.0
    back = from_pandapower(pp_net)
    g = back.generators.row(0, named=True)
    assert g["committable"] and (g["p_max_mw"], g["q_min_mvar"], g["q_max_mvar"]) == (
        0.3, -0.1, 0.1)
    assert (g["cost_per_mwh"], g["fixed_cost_per_h"]) == (60.0, 1.0)
    sh = back.shunts.row(0, named=True)
    assert sh["controllable"] and sh["max_steps"] == 3
    assert sh["q_mvar_per_step"] == pytest.approx(0.1)
    assert bool(pp_net.load.at[0, "controllable"])
    assert pp_net.load.at[0, "min_p_mw"] == pytest.approx(0.8 * 0.2)
    flex = back.loads["flex_share"].to_list(), back.loads["flex_price_per_mwh"].to_list()
    assert flex[0] == pytest.approx([0.2] * 4) and flex[1] == pytest.approx([500.0] * 4)


@pytest.fixture(scope="module")
def free_dg() -> object:
    """One solve of the grid with free DG, shared by the report and the AC-OPF polish tests."""
    import feederopt

    return feederopt.solve(device_grid(dg_cost=0.0, fixed_cost=0.0))


def test_report_has_the_device_table(tmp_path, free_dg) -> None:  # type: ignore[no-untyped-def]
    import feederopt

    folder = feederopt.save(free_dg, tmp_path / "out")
    html = (folder / "report.html").read_text()
    assert 'id="devices"' in html
    for device in ("C1", "oltc:s", "G1"):
        assert device in html
    assert (folder / "grid.png").stat().st_size > 1000


def test_ac_opf_polish_confirms_the_socp_point(free_dg) -> None:  # type: ignore[no-untyped-def]
    """With free DG the objective is the losses alone; the SOCP is a relaxation of the AC-OPF
    for the same discrete settings, so the polished AC losses (runpp's at its set-points) are
    at least the SOCP's, and the polish is never better than an exact SOCP point."""
    polish = free_dg.to_dict()["ac_opf"]
    assert polish["converged"]
    assert free_dg.ac_check.exact
    assert polish["losses_kw"] >= polish["socp_losses_kw"] * (1 - 1e-6)
    assert polish["objective_kw"] == pytest.approx(polish["losses_kw"], rel=1e-6)  # free DG
    assert polish["objective_kw"] >= polish["dopf_objective_kw"] * (1 - 1e-6)
    assert polish["verdict"] in ("equal", "worse")
    # at the tight tolerance it reaches the exact point (at pandapower's defaults its runpp
    # losses were 0.8091 kW against 0.7902: the DG stopped at 0.2986 of its 0.3 MW)
    assert polish["objective_kw"] - polish["dopf_objective_kw"] < 1e-4
    assert set(polish["gen_p_mw"]) == {"G1"}
