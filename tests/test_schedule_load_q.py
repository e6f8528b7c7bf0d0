"""``feederopt schedule`` with two loads on one bus that follow different profiles and have
different power factors (ut_sched2 #1): the bus's hourly reactive demand is each load's
``q_mvar`` times its own profile factor, summed (before: the bus's P times its Q/P ratio over
the whole day, up to 3 % off on CIGRE MV), and the hourly AC check runs these loads, so its
V_min is pandapower's own power flow of the net with each load scaled by its own profile.
Truth: the hand sum of the profile table and pandapower's runpp."""

from __future__ import annotations

from pathlib import Path

import pytest

pp = pytest.importorskip("pandapower")

from feederopt.api_schedule import schedule  # noqa: E402

#: (load index, p_mw, q_mvar) and each load's factor per hour: load 0 (bus 3) is
#: residential at power factor 1, load 1 (bus 3 too) commercial at power factor 0.71, load 2
#: (bus 2) without a profile (factor 1).
LOADS = ((3, 1.0, 0.0), (3, 0.6, 0.6), (2, 0.5, 0.2))
FACTORS = {0: (1.0, 0.2, 0.6), 1: (0.2, 1.0, 0.5)}
HOURS = 3


def _net():
    """A 20 kV ring of five buses, one tie open; the loads of :data:`LOADS`."""
    net = pp.create_empty_network()
    buses = [pp.create_bus(net, 20) for _ in range(5)]
    pp.create_ext_grid(net, buses[0], vm_pu=1.0)
    std = "NA2XS2Y 1x95 RM/25 12/20 kV"
    for a, b, km in [(0, 1, 4.0), (1, 2, 3.0), (2, 3, 3.0), (0, 4, 5.0), (4, 3, 3.0)]:
        line = pp.create_line(net, buses[a], buses[b], km, std)
        pp.create_switch(net, buses[a], line, "l", closed=(a, b) != (4, 3))
    for bus, p, q in LOADS:
        pp.create_load(net, buses[bus], p_mw=p, q_mvar=q)
    return net


def _factor(load: int, hour: int) -> float:
    return FACTORS[load][hour] if load in FACTORS else 1.0


def test_hourly_q_is_each_loads_q_times_its_own_profile_and_the_ac_check_runs_them(
        tmp_path: Path) -> None:
    net = _net()
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    prof = tmp_path / "prof.csv"
    prof.write_text("time,element,value\n" + "".join(
        f"{h},load:{k},{f[h]}\n" for k, f in FACTORS.items() for h in range(HOURS)))
    dev = tmp_path / "dev"
    dev.mkdir()
    res = schedule(str(path), profiles=prof, devices=dev, time_limit_s=60, hours=HOURS)
    assert res.status == "optimal" and res.violations == []
    for h in range(HOURS):
        # the hand sum: P and Q of every load times its own factor
        p = sum(lp * _factor(k, h) for k, (_, lp, _) in enumerate(LOADS))
        q = sum(lq * _factor(k, h) for k, (_, _, lq) in enumerate(LOADS))
        assert res.series.demand_mw[h] == pytest.approx(p, abs=1e-6)
        # before: 0.605 / 0.489 / 0.526 MVAr against 0.32 / 0.8 / 0.5 (bus 3 at its day's
        # Q/P)
        assert res.series.demand_q_mvar[h] == pytest.approx(q, abs=1e-6), h
    # pandapower's own power flow of the net at the schedule's topology, each load scaled by
    # its own profile at that hour
    open_lines = {int(k.split(":")[1]) for k in res.open_lines if k.startswith("line:")}
    assert res.ac_check and all(a.converged for a in res.ac_check)
    for h in range(HOURS):
        truth = pp.from_json(str(path))
        scale = [_factor(k, h) for k in range(len(LOADS))]
        truth.load["p_mw"] = truth.load["p_mw"] * scale
        truth.load["q_mvar"] = truth.load["q_mvar"] * scale
        truth.switch["closed"] = [int(e) not in open_lines for e in truth.switch.element]
        pp.runpp(truth)
        # before: 0.99235 / 0.99470 / 0.99397 against 0.99311 / 0.99387 / 0.99403 p.u.
        assert res.ac_check[h].v_min_ac == pytest.approx(truth.res_bus.vm_pu.min(),
                                                         abs=1e-6), h
        assert res.ac_check[h].import_ac_mw == pytest.approx(
            truth.res_ext_grid.p_mw.sum(), abs=1e-6), h
