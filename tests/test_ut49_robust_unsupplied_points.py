"""A robust run proven infeasible names the extreme points that no radial topology serves on
its own, with the binding limit (user test ut49_robust #3).

``feederopt solve mesh9.json --robust 0.5 --uncertain-loads load:1,load:3,load:5,load:7
--budget 2 --v-min 0.985`` ended "infeasible" with only "the master has no radial topology
left" and the least-violating topology's per-point diagnosis, while pandapower over all 153
radial topologies showed 17 of the 24 extreme points unservable each on its own. Here the
same feeder with two uncertain loads (load:3 at bus 4, load:7 at bus 8, +-50 %, no budget: 4
extreme points) at v_min 0.985: the truth is pandapower's AC power flow at every radial
topology (brute force over the line sets of the pandapower net) at each extreme point.
"""

from __future__ import annotations

import itertools

import pytest

import feederopt
from mesh9net import mesh9_pandapower
from netbuild import pandapower_radial_line_sets

LOADS = ["load:3", "load:7"]
FRACTION, V_MIN = 0.5, 0.985
TOL = 1e-4  # the AC check's voltage tolerance [p.u.]


def _pandapower_truth() -> dict[tuple[int, ...], float]:
    """Per extreme point (a sign per uncertain load), the least over the radial topologies
    of the largest v_min shortfall [p.u.] (0 when some topology holds every limit there, its
    ratings included)."""
    import pandapower as pp

    net = mesh9_pandapower()
    trees = list(pandapower_radial_line_sets(net))
    assert len(trees) == 153  # the tester's count
    p0, q0 = net.load.p_mw.copy(), net.load.q_mvar.copy()
    out: dict[tuple[int, ...], float] = {}
    for u in itertools.product((-1, 1), repeat=len(LOADS)):
        net.load.p_mw, net.load.q_mvar = p0.copy(), q0.copy()
        for load, s in zip(LOADS, u, strict=True):
            k = int(load.split(":")[1])
            net.load.loc[k, ["p_mw", "q_mvar"]] *= 1.0 + FRACTION * s
        least = float("inf")
        for opened in trees:
            net.line["in_service"] = True
            net.line.loc[list(opened), "in_service"] = False
            pp.runpp(net, numba=False)
            if float(net.res_line.loading_percent.max()) > 100.0:
                continue
            least = min(least, max(0.0, V_MIN - float(net.res_bus.vm_pu.min())))
            if least <= TOL:
                break  # a topology serves this point
        out[u] = least
    return out


@pytest.fixture(scope="module")
def truth() -> dict[tuple[int, ...], float]:
    return _pandapower_truth()


@pytest.fixture(scope="module")
def result() -> object:
    return feederopt.solve(feederopt.load(mesh9_pandapower()), robust=FRACTION,
                           uncertain_loads=LOADS, v_min=V_MIN, time_limit=120, workers=1)


def test_the_unservable_extreme_points_are_named(result: object,
                                                 truth: dict[tuple[int, ...], float]) -> None:
    r = result
    assert r.status == "infeasible"
    unservable = {u for u, s in truth.items() if s > TOL}
    # the brute force has both kinds: the test can tell a wrong set
    assert unservable and len(unservable) < len(truth)
    named = r.extra["unsupplied_extreme_points"]
    assert {tuple(p["u"]) for p in named} == unservable
    assert r.extra["radial_topologies_evaluated"] == 153
    assert r.extra["every_radial_topology_needs_slack"] is True
    reason = r.extra["infeasible_reason"]
    for p in named:
        assert str(p["extreme_point"]) in reason


def test_each_named_point_gives_its_binding_limit(result: object,
                                                  truth: dict[tuple[int, ...], float]) -> None:
    for p in result.extra["unsupplied_extreme_points"]:
        limits = p["closest_limits"]
        assert limits and limits[0]["limit"] == "v_min" and limits[0]["unit"] == "p.u."
        assert p["least_slack_pu"] > 0
        # the closest topology's largest shortfall is at least the least one over all radial
        # topologies (pandapower), and equal to it when that topology is the one closest in AC
        assert limits[0]["amount"] >= truth[tuple(p["u"])] - 1e-6
        assert limits[0]["amount"] == pytest.approx(truth[tuple(p["u"])], abs=2e-3)
