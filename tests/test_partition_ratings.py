"""DER kVA ratings in networked-microgrid partitioning (user test ut_3ph #1): the seed's (3)
bounds P and Q separately, so IEEE 37 mod's plan ran G718 at 309 kVA on a 229 kVA unit and
the OpenDSS check passed it. The model now keeps every DER phase inside the regular 16-gon
inscribed in its circle ``P^2 + Q^2 <= (kVA / phases)^2``, a PV's ``Pmpp`` above its kVA is
capped at the kVA, and the OpenDSS check refuses a DER phase beyond its rating."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from feederopt.cases import load_three_phase
from feederopt.formulations.partition import CAPABILITY_SIDES
from feederopt.problems.partition import PartitionSettings, build_partition_data


def _kva(p_set: np.ndarray, q_set: np.ndarray) -> np.ndarray:
    return np.hypot(p_set, q_set) * 1000


def test_ieee37mod_plan_keeps_every_der_phase_within_its_kva():
    from feederopt.api_partition import _network_and_settings, partition

    net, st, _, _ = _network_and_settings("ieee37mod", None, 0.0, None, None, [])
    data = build_partition_data(net, st)
    result = partition("ieee37mod", uncertainty=0.0, voltage_feedback=False,
                       time_limit_s=120)
    plan = result.plan
    assert plan is not None and plan.energised.any()
    kva = _kva(plan.p_set, plan.q_set)
    # the rating from the network's own table, per phase of each unit
    gens = net.generators
    rating = dict(zip(gens["id"].to_list(), (gens["s_max_mva"] * 1000).to_list(),
                      strict=True))
    nph = dict(zip(gens["id"].to_list(), gens["phases"].str.len_chars().to_list(),
                   strict=True))
    cap = np.array([rating[data.der_ids[d]] / nph[data.der_ids[d]] for d in data.ph_der])
    assert np.all(kva <= cap + 1e-6)
    # some unit works at its rating, where the seed's box let it go past (309 kVA on 229)
    assert np.max(kva / cap) > math.cos(math.pi / CAPABILITY_SIDES) - 1e-6


def test_pmpp_above_the_kva_rating_is_capped():
    net = load_three_phase("ieee13mod")
    gens = net.tables["generators"].with_columns(
        pl.when(pl.col("id") == "PVSystem.pv_mg1b").then(0.3).otherwise(pl.col("p_max_mw"))
        .alias("p_max_mw"),
        pl.when(pl.col("id") == "PVSystem.pv_mg1b").then(0.2).otherwise(pl.col("s_max_mva"))
        .alias("s_max_mva"))
    data = build_partition_data(net.replace_tables(generators=gens), PartitionSettings())
    i = data.der_ids.index("PVSystem.pv_mg1b")
    assert data.der_p_max_kw[i] == pytest.approx(200.0)
    assert np.allclose(data.ph_p_max[data.ph_der == i] * 1000, 200.0 / 3)


def test_opendss_check_refuses_a_source_beyond_its_rating():
    """The deterministic IEEE 13 mod plan passes; the same plan judged against ratings
    shrunk to half of what its grid-forming source delivers in OpenDSS fails on the rating
    alone (bands and voltages still hold: the shrunk ratings leave ``p_max`` and the ramp
    bands as they were)."""
    from feederopt.algorithms.partition import VoltageShifts, solve_extensive
    from feederopt.validation.partition import AcIsland

    net = load_three_phase("ieee13mod")
    data = build_partition_data(net, PartitionSettings())
    # The plan's island rides its 0.9 p.u. limit in LinDist3Flow, which OpenDSS meets to
    # 1e-5 p.u. on either side (the CLI's voltage feedback tightens it by 1e-4): the test is
    # about ratings, so the model's lower limits get a 1e-3 p.u. margin.
    data = VoltageShifts(lower={n: 1e-3 for n in data.pu.node_names()}).apply(data)
    plan = solve_extensive(data).plan
    scale = np.ones(len(data.load_ids))
    ok = AcIsland(net, data, plan).solve(scale)
    assert ok.converged and ok.within_ratings and ok.feasible
    gf = [int(d) for d in np.flatnonzero(plan.grid_forming)]
    assert gf
    island = AcIsland(net, data, plan)
    for k, d in enumerate(island.e_der):
        if d in gf:
            island.e_smax[k] = 0.5 * abs(ok.der_phase_kw[
                f"{data.der_ids[d]}.{'abc'[island.e_phase[k]]}"])
    bad = island.solve(scale)
    assert bad.converged and bad.within_bands and bad.within_voltage_limits
    assert not bad.within_ratings and not bad.feasible


def test_the_followers_share_the_reactive_imbalance_as_the_recourse_does() -> None:
    """Session 28: the AC check held the grid-following DERs at their reactive set-points, so
    the grid-forming G732 of the 10 % robust plan took the island's whole reactive demand in
    OpenDSS (346 kvar, 190 kvar on phase a against its 141 kVA per phase) and every sample
    failed its rating (IV-E 0.00 %). The model's recourse moves q within the same ramp as p;
    the check now shares the reactive imbalance alike, and OpenDSS's power flow of every
    sample keeps every DER within its rating and band and every node within its limits."""
    from feederopt.api_partition import partition

    result = partition("ieee37mod", uncertainty=0.1, samples=5, time_limit_s=300)
    assert result.checks is not None
    assert result.checks.lindist3flow_pct == 100.0
    assert result.checks.ac_pct == 100.0
