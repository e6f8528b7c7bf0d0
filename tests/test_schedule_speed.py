"""The exact speed-ups of the schedule's solve path (issue 18): the master with lazy storage-mode
binaries against the same master with every mode binary, solved directly on HiGHS here; the
detection of unit-hours that need their binary back; the voltage big-M against the voltage
limits it must relax."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from feederopt.algorithms.ccg import (
    _mode_conflicts,
    _solve_master,
    evaluate,
    master_block,
    solve_deterministic,
    solve_extensive,
)
from feederopt.api_schedule import schedule_inputs
from feederopt.formulations.schedule import nominal, voltage_big_m
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data
from feederopt.solvers.highs_backend import HighsModel
from feederopt.solvers.status import Status
from schedule_loop import TIES, one_loop_data


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return one_loop_data(schedule_inputs("case33bw"), 3, eps=0.1)


@pytest.mark.parametrize("c_spill", [0.0, 400.0])
def test_lazy_modes_equal_binary_master(data, c_spill: float) -> None:  # type: ignore[no-untyped-def]
    d = replace(data, c_spill=c_spill)
    xis = [nominal(d)]
    ref = HighsModel(master_block(d, xis))  # every storage mode binary
    ref.set_gap(1e-9)
    ref.h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    full = ref.solve()
    assert full.status == "optimal"
    sol, vals, _ = _solve_master(d, xis, 120.0, 1e-9)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(full.objective, rel=1e-6, abs=1e-6)
    # the returned modes are binary and serve the copy's storage dispatch
    z = vals["z"]
    assert set(np.unique(z)) <= {0.0, 1.0}
    cap = np.tile(d.ess_p, d.hours)
    assert (vals["e0.pdis"] <= cap * z + 1e-6).all()
    assert (vals["e0.pch"] <= cap * (1 - z) + 1e-6).all()


def test_mode_conflicts_across_copies(data) -> None:  # type: ignore[no-untyped-def]
    size = data.hours * len(data.ess_bus)
    zero = np.zeros(size)
    vals = {"e0.pch": zero.copy(), "e0.pdis": zero.copy(), "e1.pch": zero.copy(),
            "e1.pdis": zero.copy()}
    vals["e0.pch"][1] = 0.2  # copy 0 charges at index 1, copy 1 discharges there
    vals["e1.pdis"][1] = 0.3
    vals["e0.pdis"][4] = 0.1  # one copy only: no conflict
    vals["e0.pch"][6] = vals["e0.pdis"][6] = 0.5  # the same copy does both
    assert _mode_conflicts(data, vals, 2).tolist() == [1, 6]
    assert _mode_conflicts(data, vals, 1).tolist() == [6]


def test_voltage_big_m_covers_the_limits(data) -> None:  # type: ignore[no-untyped-def]
    m = voltage_big_m(data)
    lo, hi = data.v_min2.copy(), data.v_max2.copy()
    lo[data.root] = hi[data.root] = data.v_root2
    # with P = Q = 0 on an open branch, v_t - v_f ranges over [lo_t - hi_f, hi_t - lo_f]
    assert (m >= hi[data.t] - lo[data.f]).all()
    assert (m >= hi[data.f] - lo[data.t]).all()
    assert (m > 0).all()


def test_lazy_modes_time_limit_returns_a_schedule() -> None:
    """A renewable surplus (four times the load) that costs 400 $/MWh to spill, with the
    physical SOC form and the storage full after the first hour: the relaxed master burns
    energy by charging and discharging at once (0.95 in, 1/0.95 out), a mode conflict, and
    with a 1 ms limit no time is left for the binary solve. The answer is then time-limited,
    with binary modes, its own evaluated cost and a bound from the relaxed master, which
    bracket the optimum of the full solve."""
    net, dev, prof = schedule_inputs("case33bw")
    ids = [str(b) for b in net.branches["id"].to_list()]
    base = build_schedule_data(net, dev, prof, ScheduleSettings(
        hours=2, fixed_open=("33", *TIES),
        fixed_closed=tuple(b for b in ids if b not in TIES and b != "33")))
    scale = 4.0 * base.pd.sum(1, keepdims=True) / base.res_hat.sum(1, keepdims=True)
    d = replace(base, physical_soc=True, c_spill=400.0, res_hat=base.res_hat * scale)
    cut = solve_deterministic(d, time_limit_s=1e-3)
    assert cut.status is Status.TIME_LIMIT and cut.notes
    assert set(np.unique(cut.z)) <= {0.0, 1.0}
    x = {"y": cut.closed[0], "z": cut.z}
    assert cut.objective == pytest.approx(evaluate(d, x, nominal(d))[0], rel=1e-9)
    full = solve_deterministic(d, gap=1e-9)
    assert full.status is Status.OPTIMAL and not full.notes
    assert cut.lower_bound <= full.objective + 1e-6 <= cut.objective + 2e-6


def _realisations(d):  # type: ignore[no-untyped-def]
    """The forecast and four realisations: every load up in hour 0, every load down in hour 1,
    every renewable short all day, every load up all day (the last dominates the forecast)."""
    H, n, U = d.hours, d.n, len(d.res_bus)
    out = [nominal(d)]
    for kind, hours in (("xp", [0]), ("xm", [1]), ("xr", list(range(H))),
                        ("xp", list(range(H)))):
        xi = nominal(d)
        size = U if kind == "xr" else n
        for h in hours:
            xi[kind][h * size:(h + 1) * size] = 1.0
        out.append(xi)
    return out


def test_lazy_copies_equal_all_copies() -> None:
    """The master with lazy recourse copies (only the forecast active at first) against the
    same master with every copy (solve_extensive without ``active``): the same objective and
    bound, and the lazy loop did activate copies (so the comparison tests it). Two hours, DSM
    10 %, spill priced at 400 $/MWh (with free spill the all-copies MILP takes 15 s here, the
    lazy one 1.8 s)."""
    base = one_loop_data(schedule_inputs("case33bw"), 2, eps=0.1)
    d = replace(base, gamma=0.3, c_spill=400.0)
    xis = _realisations(d)
    full = solve_extensive(d, xis, gap=1e-9)
    lazy = solve_extensive(d, xis, gap=1e-9, active=[0])
    assert full.status is Status.OPTIMAL and lazy.status is Status.OPTIMAL
    assert lazy.objective == pytest.approx(full.objective, rel=1e-6, abs=1e-6)
    assert lazy.lower_bound == pytest.approx(full.lower_bound, rel=1e-6, abs=1e-6)
    assert 1 < lazy.copies < len(xis)  # copies were added, and not all of them
    # the lazy answer's first stage costs its objective over EVERY realisation
    x = {"y": lazy.closed[0], "z": lazy.z}
    worst = max(evaluate(d, x, xi)[0] for xi in xis)
    assert lazy.objective == pytest.approx(worst, rel=1e-6, abs=1e-6)
