"""Presolve's zero-injection chains are exact only where the chain's branches carry no shunt
(user test ut34_fuzz: repro_chain_charging.py, grids/g40.json).

Presolve kept one branch of each chain of empty buses switchable and closed the others, as if
it did not matter which branch of the chain opens. With line charging it does: opening another
branch drops another cable's charging, and the buses that change sides draw their branches'
charging from the other end. On a 3-bus ring the solve "proved" the topology that opens the
tie cable optimal at 3.1172 kW, with a lower bound of 3.1171 kW, while opening the other
branch of the chain costs 2.3867 kW in pandapower; on g40 (11 buses) it proved 1.9981 kW
against the best topology's 1.9732 kW.

The same reduction compared the chain's voltage limits with the intersection of its ends'
limits and ignored taps; the buses that change sides take either end's voltage, so they must
accept the union (``tight_middle``: every method answered "infeasible"), scaled by the taps.

Truth: pandapower's Newton-Raphson power flow of every radial topology (every set of lines
whose opening leaves a spanning tree, :func:`netbuild.pandapower_radial_line_sets`), with the
voltage limits and line ratings checked, the least losses taken."""

from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.api import decidable
from feederopt.problems.presolve import chain_duplicates
from netbuild import pandapower_radial_line_sets

V_MIN, V_MAX = 0.9, 1.1


def ring3() -> Any:
    """bus 0 (source) -line 0- bus 1 (load) -line 1: a 3 km cable, 400 nF/km, the
    normally-open tie, rated 10 A- bus 2 (nothing) -line 2- bus 0. The chain is bus 2 with
    lines 1 and 2."""
    net = pp.create_empty_network()
    b0, b1, b2 = (pp.create_bus(net, 20.0) for _ in range(3))
    pp.create_ext_grid(net, b0)
    pp.create_line_from_parameters(net, b0, b1, 3.0, 1.0, 1.0, 0.0, 0.6)
    pp.create_line_from_parameters(net, b1, b2, 3.0, 0.3, 0.1, 400.0, 0.01)
    pp.create_line_from_parameters(net, b2, b0, 0.5, 0.3, 0.3, 0.0, 0.6)
    net.line.at[1, "in_service"] = False
    pp.create_load(net, b1, p_mw=0.5, q_mvar=0.4)
    return net


#: g40 of the user test: (from, to, km, r, x [Ohm/km], c [nF/km]); every line 0.6 kA, the
#: last three out of service (the ties). Bus 8 carries nothing: the chain of lines 7 and 10.
G40_LINES = [
    (0, 1, 1.093961551309756, 0.250645235929607, 0.787433556345416, 249.31033114983987),
    (1, 2, 0.681007293325779, 0.182998448671786, 0.401541009340072, 182.41041291335074),
    (0, 3, 1.718622088653461, 0.411117831730542, 0.460074097295695, 140.1654352639784),
    (0, 4, 0.968648028018595, 0.639658152966418, 0.305837926891002, 154.6542660172604),
    (2, 5, 1.635281355390809, 0.338736951335509, 0.367533675436836, 110.67068768894376),
    (4, 6, 0.939537719754781, 0.265912823442169, 0.327698185259264, 226.17778681496915),
    (3, 7, 0.604673501884174, 0.638067915380859, 0.523625411105446, 97.52035659117668),
    (7, 8, 1.117038955151168, 0.364629796085462, 0.342113385857332, 78.02569174112634),
    (7, 9, 1.774164763881244, 0.631299587988151, 0.204752217651405, 63.38436578421828),
    (7, 10, 1.544857506401082, 0.419378731623577, 0.178059532082216, 75.43764744680539),
    (6, 8, 2.947907829185843, 0.810610046585753, 0.631621893400858, 156.40906354385004),
    (1, 7, 2.814858458106173, 0.592782085711655, 0.617642084168407, 118.82895446547174),
    (1, 3, 1.78474494659707, 0.67568152044697, 0.764746528316377, 224.62905887397736),
]
G40_LOADS = [(2, 0.462736845764798, 0.201176548505236), (3, 0.383187064138783, 0.262898676365705),
             (4, 0.497921299463046, 0.137207795537089), (6, 0.213857203754693, 0.125050917617684),
             (9, 0.015727941681496, 0.009893518378192), (10, 0.195328858518967, 0.136407634342945)]


def g40() -> Any:
    net = pp.create_empty_network()
    for _ in range(11):
        pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, 0)
    for a, b, km, r, x, c in G40_LINES:
        pp.create_line_from_parameters(net, a, b, km, r, x, c, 0.6)
    net.line.loc[[10, 11, 12], "in_service"] = False
    for bus, p, q in G40_LOADS:
        pp.create_load(net, bus, p_mw=p, q_mvar=q)
    return net


def ring4() -> Any:
    """bus 0 (source) -A- bus 1 (load) -B: a charging cable- bus 2 -C- bus 3 -D- bus 0, with
    buses 2 and 3 empty: one chain (B, C, D) whose branches C and D carry no shunt."""
    net = pp.create_empty_network()
    for _ in range(4):
        pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, 0)
    pp.create_line_from_parameters(net, 0, 1, 3.0, 1.0, 1.0, 0.0, 0.6)    # A
    pp.create_line_from_parameters(net, 1, 2, 3.0, 0.3, 0.1, 400.0, 0.6)  # B
    pp.create_line_from_parameters(net, 2, 3, 0.4, 0.3, 0.3, 0.0, 0.6)    # C
    pp.create_line_from_parameters(net, 3, 0, 0.4, 0.3, 0.3, 0.0, 0.6)    # D
    net.line.at[1, "in_service"] = False
    pp.create_load(net, 1, p_mw=0.5, q_mvar=0.4)
    return net


def tight_middle() -> Any:
    """Source S -20 km- A (3 MW, limits 0.9..1.1) -e1- b (nothing, 0.95..1.05) -e2: the tie-
    B (0.1 MW, 0.95..1.05) -1 km- S; no charging. A sits at 0.91 p.u., so b may hang off B
    (open e1) but not off A (open e2); feeding A over b is far too weak. The old voltage rule
    (the chain's limits against the intersection of its ends' limits) let the chain keep only
    the tie switchable, and every method answered "infeasible"."""
    net = pp.create_empty_network()
    for lo, hi in ((0.9, 1.1), (0.9, 1.1), (0.95, 1.05), (0.95, 1.05)):
        pp.create_bus(net, 20.0, min_vm_pu=lo, max_vm_pu=hi)
    pp.create_ext_grid(net, 0)
    pp.create_line_from_parameters(net, 0, 1, 20.0, 0.4, 0.4, 0.0, 0.6)
    pp.create_line_from_parameters(net, 1, 2, 5.0, 2.0, 2.0, 0.0, 0.6)   # e1
    pp.create_line_from_parameters(net, 2, 3, 5.0, 2.0, 2.0, 0.0, 0.6)   # e2
    pp.create_line_from_parameters(net, 3, 0, 1.0, 0.4, 0.4, 0.0, 0.6)
    net.line.at[2, "in_service"] = False
    pp.create_load(net, 1, p_mw=3.0, q_mvar=1.0)
    pp.create_load(net, 3, p_mw=0.1, q_mvar=0.0)
    return net


def brute_force(net: Any) -> tuple[float, set[str]]:
    """The least pandapower losses [kW] over the radial topologies within the voltage limits
    (the buses' own, else 0.9..1.1 p.u.) and the line ratings, and the lines that topology
    opens (as feederopt names them)."""
    lo = net.bus.get("min_vm_pu", V_MIN)
    hi = net.bus.get("max_vm_pu", V_MAX)
    best = (float("inf"), set())
    case = copy.deepcopy(net)  # one copy: each topology sets every line's state
    for opened in pandapower_radial_line_sets(net):
        case.line["in_service"] = ~case.line.index.isin(opened)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(case, numba=False)
        vm = case.res_bus.vm_pu
        within = (vm >= lo).all() and (vm <= hi).all()
        if not (within and case.res_line.loading_percent.max() <= 100):
            continue
        losses = 1000.0 * float(case.res_line.pl_mw.sum())
        if losses < best[0]:
            best = (losses, {f"line:{k}" for k in opened})
    return best


@functools.cache
def truth(build: Any) -> tuple[float, set[str]]:
    """:func:`brute_force` of ``build()``, once per net for both methods (the net is built
    afresh each call: the same every time)."""
    return brute_force(build())


@pytest.mark.parametrize("build", [ring3, g40, ring4, tight_middle])
@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_optimum_matches_every_radial_topology(build, method):
    net = build()
    best_kw, best_open = truth(build)
    result = feederopt.solve(net, method=method, time_limit=60)
    assert result.status.value == "optimal"
    assert {b["id"] for b in result.open_branches} == best_open
    assert result.losses_kw == pytest.approx(best_kw, rel=1e-4)
    assert result.lower_bound <= best_kw * (1 + 1e-5)


def test_chain_reduction_skips_charging_branches_only():
    """ring3: the chain's two branches differ (one is a cable), nothing is fixed; ring4: the
    shunt-free run C, D of the chain keeps one of them switchable, B stays switchable; the
    same ring4 without charging fixes two of the chain's three branches, as before."""
    _, pu, _ = decidable(feederopt.load(ring3()))
    assert not chain_duplicates(pu).any()
    _, pu, _ = decidable(feederopt.load(ring4()))
    fixed = [pu.branch_ids[k] for k in np.flatnonzero(chain_duplicates(pu))]
    assert len(fixed) == 1 and fixed[0] in ("line:2", "line:3")
    plain = ring4()
    plain.line["c_nf_per_km"] = 0.0
    _, pu, _ = decidable(feederopt.load(plain))
    assert int(chain_duplicates(pu).sum()) == 2
    assert not chain_duplicates(pu)[pu.branch_ids.index("line:1")]  # the tie stays


def test_chain_run_voltage_through_a_tap():
    """ring4 without charging, line 2 (bus 2 -> bus 3) an ideal transformer 1.05 : 1. Opened
    next to bus 1 (line 1), bus 3 hangs off the source at 1.00 p.u.; opened next to the
    source (line 3), bus 3 hangs off bus 1 through the tap: |V_3| = |V_1| / 1.05, as low as
    0.9 / 1.05 = 0.857 p.u., below its limit 0.9: the branches are not interchangeable.
    With the ratio 1 : 1 they are (two of the three fixed, the tie kept)."""
    plain = ring4()
    plain.line["c_nf_per_km"] = 0.0
    _, pu, _ = decidable(feederopt.load(plain))
    assert int(chain_duplicates(pu).sum()) == 2
    tap = np.ones(pu.n_branch)
    tap[pu.branch_ids.index("line:2")] = 1.05
    assert not chain_duplicates(replace(pu, tap=tap)).any()
