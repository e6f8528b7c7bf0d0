"""The dispatch of a backup DG fed from a source (user test ut47_resil #1;
``feederopt.algorithms.resilience_switching``, step 2).

The tester's 8-bus net (``own8``, built here from their ``mknet.py``): a 20-kV source at B0,
lines L0..L6 closed, ties L7 (B4-B7, 0.010 kA: 346 kVA) and L8 (B3-B6, 0.008 kA: 277 kVA)
open, loads at unity power factor. With L1 broken and a 300-kW DG at B3 nothing is shed; the
first phase left the DG at 222.87 kW, L8 at its rating in the model and at 100.38 % in AC.
The truth here is pandapower's AC power flow of the returned operation, run in the test on
the tester's net: every line within its rating and every bus within 0.9-1.1 p.u.

case33bw with line 2 broken and a 1,500-kW DG at bus 30: nothing is shed, and the AC
voltage at the far buses rises with the DG's P and Q (a sweep in pandapower below), so the
dispatch that keeps the most margin from ``v_min`` is the DG at its size in P and Q; the
first phase left it at 1356.67 kW (AC V_min 0.8941, 181.9 kW of losses).
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings

import pandapower as pp
import pandapower.networks as pn
import pytest

from feederopt.api_resilience import restore


def own8() -> pp.pandapowerNet:
    """The tester's ``mknet.mk()`` (own8.json)."""
    n = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(n, 20.0, name=f"B{i}") for i in range(8)]
    pp.create_ext_grid(n, b[0], vm_pu=1.0)
    spec = [(0, 1, None), (1, 2, None), (2, 3, None), (3, 4, None), (1, 5, None),
            (5, 6, None), (6, 7, None), (4, 7, 0.010), (3, 6, 0.008)]
    for i, (f, t, imax) in enumerate(spec):
        ln = pp.create_line_from_parameters(n, b[f], b[t], 2.0, 0.2, 0.3, 10, imax or 0.4,
                                            name=f"L{i}")
        pp.create_switch(n, b[f], ln, et="l", closed=(i < 7), name=f"S{i}")
    loads = [(2, 0.2, 1, True), (3, 0.3, 5, True), (4, 0.15, 1, True), (4, 0.1, 10, True),
             (5, 0.25, 1, True), (6, 0.2, 1, False), (7, 0.3, 2, True)]
    for bb, p, _, _ in loads:
        pp.create_load(n, b[bb], p_mw=p, q_mvar=0.0, name=f"D{bb}")
    n.load["priority"] = [x[2] for x in loads]
    n.load["sheddable"] = [x[3] for x in loads]
    pp.create_sgen(n, b[4], p_mw=0.1, q_mvar=0.0, name="PV4")
    return n


def ac_run(net: pp.pandapowerNet, closed: set[int], broken: set[int], shed: dict[str, float],
           dg: dict[int, tuple[float, float]], via_switches: bool) -> pp.pandapowerNet:
    """pandapower's AC power flow of an operation on a copy of ``net`` (the tester's
    ``vown.py``): the closed lines (by their switches, or in service), the shed shares, the
    DGs as fixed injections [kW, kvar]."""
    n = copy.deepcopy(net)
    if via_switches:
        for s in n.switch.index:
            n.switch.at[s, "closed"] = int(n.switch.element[s]) in closed
        n.line.loc[sorted(broken), "in_service"] = False
    else:
        n.line["in_service"] = [i in closed for i in n.line.index]
    for k, val in shed.items():
        j = int(k.split(":")[1])
        f = 1 - val / (n.load.p_mw[j] * 1e3)
        n.load.at[j, "p_mw"] *= f
        n.load.at[j, "q_mvar"] *= f
    for bus, (p, q) in dg.items():
        pp.create_sgen(n, bus, p_mw=p / 1e3, q_mvar=q / 1e3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(n, numba=False)
    return n


def test_own8_source_fed_dg_keeps_the_line_within_its_rating() -> None:
    net = own8()
    r = restore(own8(), "line:1", dg_sites="3", dg_p_max_kw=300, time_limit_s=60)
    op = r.operation
    assert r.shed_kw == pytest.approx(0.0, abs=1e-3)
    closed = {int(x.split(":")[1]) for x in op.closed_lines}
    dg = {int(b): (p, op.dg_output_kvar.get(b, 0.0)) for b, p in op.dg_output_kw.items()}
    n = ac_run(net, closed, {1}, dict(op.shed_per_load_kw), dg, via_switches=True)
    assert n.res_line.loading_percent.max() <= 100.0, n.res_line.loading_percent.tolist()
    assert n.res_bus.vm_pu.dropna().min() >= 0.9
    assert r.within_limits  # the tool's own AC check agrees with pandapower's


def test_case33bw_dg_keeps_the_most_voltage_margin() -> None:
    net = pn.case33bw()
    r = restore("case33bw", "2", dg_sites="30", dg_p_max_kw=1500, time_limit_s=120)
    op = r.operation
    assert r.shed_kw == pytest.approx(0.0, abs=1e-3)
    closed = {int(x) - 1 for x in op.closed_lines}  # case33bw's ids count from 1
    p, q = op.dg_output_kw["30"], op.dg_output_kvar.get("30", 0.0)
    got = ac_run(net, closed, set(), {}, {29: (p, q)}, via_switches=False)
    v_got = float(got.res_bus.vm_pu.min())
    # the best least AC voltage over a grid of the DG's P and Q in [0, 1500], same topology
    best = max(float(ac_run(net, closed, set(), {}, {29: (pp_, qq)}, via_switches=False)
                     .res_bus.vm_pu.min())
               for pp_, qq in itertools.product((0.0, 750.0, 1500.0), repeat=2))
    assert v_got >= best - 1e-4, (p, q, v_got, best)


def test_seed_loop_warning_names_the_ac_verdict() -> None:
    """ut47_resil #3: ``--radiality seed`` on own8 with line:1 broken closes a loop; the
    warning says the model's flows around it are not the AC flows and names the AC verdict,
    which pandapower's own run of the operation (here) finds broken: a line over its rating."""
    net = own8()
    r = restore(own8(), "line:1", radiality="seed", time_limit_s=60)
    op = r.operation
    closed = {int(x.split(":")[1]) for x in op.closed_lines}
    n = ac_run(net, closed, {1}, dict(op.shed_per_load_kw), {}, via_switches=True)
    over = [f"line:{k}" for k in n.line.index if n.res_line.loading_percent[k] > 100.0]
    assert over  # the premise: the loop's operation breaks a rating in AC
    warned = [x for x in r.notes if "not radial" in x]
    assert len(warned) == 1, r.notes
    assert "not the AC flows" in warned[0] and "may not be reachable" in warned[0]
    assert "AC check: limits broken in AC" in warned[0]
    assert all(k in warned[0] for k in over), (over, warned[0])


def test_island_dg_keeps_room_for_its_island_losses() -> None:
    """ut47_resil #2: own8 with line:1 and line:4 broken and a 500-kW DG at B6 forms an
    island that the lossless model served with the DG at exactly 500 kW; in AC the DG also
    supplies the island's losses (500.27 kW). pandapower's run of the returned operation,
    the DG grid-forming (an ext_grid at the feeder's 1.0 p.u., the model's island set-point)
    has it within its size; the shed grows by about those losses, no more."""
    net = own8()
    r = restore(own8(), "line:1,line:4", dg_sites="6", dg_p_max_kw=500, time_limit_s=60)
    op = r.operation
    closed = {int(x.split(":")[1]) for x in op.closed_lines}
    n = ac_run(net, closed, {1, 4}, dict(op.shed_per_load_kw), {}, via_switches=True)
    assert math.isnan(n.res_bus.vm_pu[6])  # the premise: B6 has no source without its DG
    n2 = copy.deepcopy(n)
    pp.create_ext_grid(n2, 6, vm_pu=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(n2, numba=False)
    p_kw = float(n2.res_ext_grid.p_mw.iloc[-1]) * 1e3
    assert p_kw <= 500.0, p_kw
    # the island's load: 500 kW of DG less its losses (< 1 kW here) is what is served there
    assert 499.0 < p_kw - float(n2.res_line.pl_mw.sum()) * 1e3 <= 500.0
    assert any("held below their size" in x for x in r.notes), r.notes
    # the DG absorbs the island's line charging in AC (every load at Q = 0), below the
    # [0, Qmax] it is given: the verdict names its kvar, pandapower's, and the cause
    q_kvar = float(n2.res_ext_grid.q_mvar.iloc[-1]) * 1e3
    assert q_kvar < 0
    assert r.ac_check is not None
    verdict = r.ac_check["verdict"]
    assert f"6 at {q_kvar:.2f} kvar" in verdict and "line charging" in verdict, verdict


def test_plan_island_dg_keeps_room_for_its_island_losses() -> None:
    """ut47_resil #2 in ``plan``: own8, one scenario breaking line:1 and line:4, one 500-kW DG
    to site, no hardening: the scenario's island DG is within its size in pandapower's run of
    the scenario's operation (the DG grid-forming at the feeder's 1.0 p.u.)."""
    import polars as pl

    from feederopt.api_resilience import plan
    from feederopt.problems.resilience import PlanSettings

    net = own8()
    scen = pl.DataFrame({"name": ["s3"], "probability": [1.0], "broken": ["line:1;line:4"]})
    r = plan(own8(), scenarios=scen, time_limit_s=120, measures=False,
             settings=PlanSettings(harden_budget=0, dg_budget=1, dg_p_max_kw=500.0))
    (sc,) = r.scenarios
    op = sc.operation
    closed = {int(x.split(":")[1]) for x in op.closed_lines}
    n = ac_run(net, closed, {1, 4}, dict(op.shed_per_load_kw), {}, via_switches=True)
    (site,) = r.dg_sites
    assert math.isnan(n.res_bus.vm_pu[int(site)])  # the premise: the DG forms an island
    pp.create_ext_grid(n, int(site), vm_pu=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(n, numba=False)
    p_kw = float(n.res_ext_grid.p_mw.iloc[-1]) * 1e3
    assert 499.0 < p_kw <= 500.0, p_kw
