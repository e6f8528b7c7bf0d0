"""User test ut36_dopf #1: a controllable bank with active power per step (pandapower's lossy
shunt, ``p_mw`` per step) consumes ``step x p_mw x |V|^2`` at the CHOSEN step, as its
``q_mvar`` does; the DOPF held its P at the data's step (``network/perunit.py`` put
``p_mw_per_step x step`` of the data into the fixed shunts, ``formulations/devices.py``
switched only Q), so the objective depended on the data's step (152.772 kW with step 0, 160.178
kW with step 3 for the same chosen setting on the tester's net).

The net: a 20 kV radial feeder of three 4 km lines (0.161 + j0.117 ohm/km) with loads of 1,
1.5 and 2 MW at cos phi 0.89 and, at its end, a 4-step bank of 600 kvar and 30 kW per step.
The truth is pandapower's Newton-Raphson at each of the five steps (brute force): the least line
losses, 64.911 kW, are at step 3 (not at step 4, where the bank's 117 kW cost more than its
Q saves). The radial SOCP is exact here, so the DOPF must find that step and that value,
whatever the data's step and whichever exact method (Benders' slave and master, the MISOCP).
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import pytest

import feederopt

warnings.filterwarnings("ignore", message=".*numba.*")

MAX_STEP = 4


def lossy_feeder(data_step: int) -> Any:
    import pandapower as pp

    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 20, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in [(0, 1), (1, 2), (2, 3)]:
        pp.create_line_from_parameters(net, b[f], b[t], 4.0, 0.161, 0.117, 0.0, max_i_ka=0.45)
    for bus, p in [(1, 1.0), (2, 1.5), (3, 2.0)]:
        pp.create_load(net, b[bus], p_mw=p, q_mvar=0.5 * p)
    pp.create_shunt(net, b[3], q_mvar=-0.6, p_mw=0.03, step=data_step, max_step=MAX_STEP)
    net.shunt["controllable"] = True
    return net


@cache
def brute_force() -> tuple[int, float, float]:
    """(best step, its line losses [kW], the bank's P there [kW]) by pandapower's runpp."""
    import pandapower as pp

    losses = {}
    for step in range(MAX_STEP + 1):
        net = lossy_feeder(step)
        pp.runpp(net, tolerance_mva=1e-10)
        losses[step] = (float(net.res_line.pl_mw.sum()) * 1000,
                        float(net.res_shunt.p_mw.sum()) * 1000)
    best = min(losses, key=lambda s: losses[s][0])
    return best, *losses[best]


def test_brute_force_optimum_is_interior() -> None:
    """The case tests something: the bank's P moves the optimum off the largest step."""
    best, _loss, bank_p = brute_force()
    assert 0 < best < MAX_STEP and bank_p > 50.0


@pytest.mark.parametrize("method", ["benders", "misocp"])
@pytest.mark.parametrize("data_step", [0, MAX_STEP])
def test_bank_p_switches_with_the_chosen_step(method: str, data_step: int) -> None:
    best, loss_kw, _ = brute_force()
    r = feederopt.solve(lossy_feeder(data_step), method, time_limit=30)
    assert r.status == "optimal"
    (bank,) = r.dopf.devices
    assert bank["step"] == best
    # the model's objective is the AC losses of its setting: not the data's step's
    assert r.objective == pytest.approx(loss_kw, abs=1e-3)
    assert r.ac_check.losses_kw == pytest.approx(loss_kw, abs=1e-3)


def test_report_says_an_uncommitted_generator_is_off(tmp_path: Any) -> None:
    """User test ut36_dopf #2: the report's Generators section counted an off (uncommitted)
    sgen as "1 in-service generator(s)" and listed it as an ordinary unit. Here a committable
    sgen of at most 0.5 MW costs a fixed 10^5 per hour when on: at the loss price of 100 per
    MWh that is 10^6 kW-eq, more than all the feeder's losses (brute force: 77 kW at most), so
    by hand it must stay off; the report must say so and count no running generator."""
    import pandapower as pp

    from test_fixb_report_scenarios import records, section, tables

    net = lossy_feeder(0)
    g = pp.create_sgen(net, 2, p_mw=0.0, q_mvar=0.0, controllable=True, min_p_mw=0.0,
                       max_p_mw=0.5, min_q_mvar=0.0, max_q_mvar=0.0)
    pp.create_poly_cost(net, g, "sgen", cp1_eur_per_mw=0.0, cp0_eur=1e5)
    r = feederopt.solve(net, time_limit=30)
    folder = feederopt.save(r, tmp_path / "out", report=True)
    page = section((folder / "report.html").read_text(encoding="utf-8"), "generators")
    (row,) = records(tables(page)[0])
    assert row["id"] == "sgen:0" and row["state"] == "off (not committed)"
    assert "0 in-service generator(s) running" in page
    assert "1 committable generator(s) left off" in page
    assert "1 in-service generator(s)" not in page
