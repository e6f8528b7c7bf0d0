"""Controllable DG: the optimiser's set-points go into the AC check, and the SOCP agrees with it.

Independent physics: pandapower's Newton-Raphson with the chosen topology and DG set-points
reproduces the SOCP's losses and voltages.
"""

from __future__ import annotations

import polars as pl
import pytest

import feederopt
from feederopt.network import Network
from feederopt.solvers.status import Status


def ring_with_dg(cost_per_mwh: float = 0.0) -> Network:
    buses = pl.DataFrame({
        "id": ["s", "a", "b", "c"], "vn_kv": [12.66] * 4, "is_source": [True, False, False, False],
    })
    branches = pl.DataFrame({
        "id": ["1", "2", "3", "4"],
        "from_bus": ["s", "a", "b", "c"], "to_bus": ["a", "b", "c", "s"],
        "r_ohm": [0.5, 1.2, 0.4, 2.0], "x_ohm": [0.4, 0.9, 0.3, 1.5],
        "switchable": [True] * 4, "normally_open": [False, False, True, False],
    })
    loads = pl.DataFrame({
        "id": ["la", "lb", "lc"], "bus": ["a", "b", "c"],
        "p_mw": [0.8, 1.0, 0.6], "q_mvar": [0.4, 0.5, 0.3],
    })
    gens = pl.DataFrame({
        "id": ["pv"], "bus": ["b"], "p_mw": [0.0], "p_min_mw": [0.0], "p_max_mw": [0.6],
        "q_min_mvar": [-0.2], "q_max_mvar": [0.2], "cost_per_mwh": [cost_per_mwh],
    })
    return Network.from_tables(buses=buses, branches=branches, loads=loads, generators=gens,
                               name="ring_dg").check()


def test_dg_set_points_reach_the_ac_check() -> None:
    r = feederopt.solve(ring_with_dg(), method="benders")
    assert r.status is Status.OPTIMAL
    assert r.ac_check is not None and r.ac_check.converged
    # Free DG next to the load cuts losses: it is dispatched, and AC agrees with the SOCP.
    no_dg = feederopt.solve(ring_with_dg().replace(
        generators=ring_with_dg().generators.with_columns(pl.lit(0.0).alias("p_max_mw"),
                                                          pl.lit(0.0).alias("q_max_mvar"),
                                                          pl.lit(0.0).alias("q_min_mvar"))))
    assert r.losses_kw < no_dg.losses_kw
    assert r.ac_check.losses_kw == pytest.approx(r.losses_kw, rel=2e-3)
    assert r.ac_check.max_voltage_diff_pu < 1e-3


def test_priced_dg_is_not_dispatched_when_energy_costs_more_than_losses_save() -> None:
    # At 1e6 per MWh against a loss price of 1 per MWh, any DG output costs more than the
    # losses it can save (at most the losses themselves), so the optimum leaves it at zero.
    r = feederopt.solve(ring_with_dg(cost_per_mwh=1e6), loss_price_per_mwh=1.0)
    free = feederopt.solve(ring_with_dg())
    assert r.status is Status.OPTIMAL
    assert r.losses_kw > free.losses_kw
    assert r.objective == pytest.approx(r.losses_kw, rel=1e-3, abs=1e-3)


def test_misocp_objective_is_the_topologys_cost_with_a_priced_dg() -> None:
    """The MISOCP on SCIP with a DG priced at 1e6 per MWh: the reported objective is the
    chosen topology's cost (its losses, the DG idle), and the bound is not above it; before,
    SCIP's own objective was reported, 10 kW below the losses (pg at -1e-8 p.u., under its
    p_min of 0 within SCIP's tolerance, times 1e9 kW per p.u.). Benders gives the same
    topology."""
    r = feederopt.solve(ring_with_dg(cost_per_mwh=1e6), loss_price_per_mwh=1.0,
                        method="misocp")
    b = feederopt.solve(ring_with_dg(cost_per_mwh=1e6), loss_price_per_mwh=1.0)
    assert r.objective == pytest.approx(r.losses_kw, rel=1e-4)
    assert r.lower_bound <= r.objective + 1e-9
    assert r.objective == pytest.approx(b.objective, rel=1e-4)
    assert [x["id"] for x in r.open_branches] == [x["id"] for x in b.open_branches]
