"""Blocks that a partition plan leaves dark for the DERs' cost (user test ut34, finding 3).

The objective (16a) of seed 001 weighs a shed block ``l`` at ``W_l = shed_scale alpha_l`` $
(about 10,000 $, whatever its kW) and generation at ``c1`` $/kWh: a block whose generation
costs more than ``W_l`` is cheaper to shed, and the optimum sheds it although a grid-forming
DER could carry it. The default DER cost
(:func:`~feederopt.formulations.partition.default_der_cost`) rules that out; costs given in
the settings may not. :func:`cost_dark_blocks` finds such blocks for an optimal plan ``P``:

* **candidates**: de-energised blocks with load (weight > 0), not lost, with no switch the
  settings fix closed, holding a grid-forming DER with capacity; none when the largest
  generation cost of any plan
  (:func:`~feederopt.formulations.partition.generation_cost_bound`) is below the lightest
  candidate's weight (then adding a block always pays);
* **the block alone**: the first stage with only block ``l`` allowed on (every other block
  held off, every switch open) and ``z_l >= 1``, with one slack-free recourse copy per sign
  pattern of ``l``'s uncertain loads (the extensive form of
  :func:`~feederopt.algorithms.partition.with_copies`; loads of de-energised blocks do not
  change the recourse, :func:`~feederopt.algorithms.partition.live_groups`), at the plan's
  costs. Feasible means ``l`` runs as a microgrid of its own, robustly over the box; its
  optimum is the least cost of serving it, generation ``sum c1 ps + c0`` plus the worst
  re-dispatch ``theta``.

A feasible ``l`` is left dark because of the cost: its island touches none of ``P``'s energised
blocks (its switches are open in ``P``, (2)), so ``P`` plus the island is a plan, robust
because the recourse separates over components, and ``P``'s optimality means that it costs at
least as much (``cost_l >= W_l`` up to the MILP's gap). Blocks that only a networked
microgrid (closed switches to other blocks) could carry are not checked here: that is the
whole partition problem again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from feederopt.algorithms.partition import live_groups, with_copies
from feederopt.formulations.partition import (
    PartitionData,
    default_der_cost,
    generation_cost_bound,
)
from feederopt.problems.partition import PartitionPlan
from feederopt.solvers.highs_backend import HighsModel

#: A block whose island costs less than its weight by more than this share contradicts the
#: plan's optimality (a gap, not the cost): :func:`cost_dark_blocks` leaves it out.
OPTIMALITY_TOL = 1e-3


@dataclass
class DarkBlock:
    """A block left dark that can run as a microgrid of its own (:func:`cost_dark_blocks`)."""

    block: int
    load_kw: float  # nominal kW of its loads
    weight: float  # its load-shed cost W_l = shed_scale alpha_l [$]
    serve_cost: float  # least generation + worst re-dispatch cost of serving it alone [$]
    ders: list[str]  # its DERs
    c1: list[float]  # their c1 [$/kWh]
    c0: list[float]  # their c0 [$]
    given: list[bool]  # whether each cost comes from the settings (else the default)


def _der_s_max_kva(data: PartitionData) -> np.ndarray:
    return 1000.0 * np.bincount(data.ph_der, weights=data.ph_s_max,
                                minlength=len(data.der_ids))


def cost_dark_blocks(data: PartitionData, plan: PartitionPlan, *,
                     deadline: float = math.inf) -> list[DarkBlock]:
    """The de-energised blocks of the optimal ``plan`` that can run as a microgrid of their
    own (see module docstring), each with its weight and its least cost of being served;
    blocks are checked until ``deadline`` (``time.perf_counter()``)."""
    weight = data.settings.shed_scale * data.alpha
    # a switch the settings fix closed ties its block to its neighbour: no island of its own
    tied = set(data.switch_blocks[data.switch_fixed == 1].ravel().tolist())
    cands = [b for b in range(data.n_blocks)
             if not plan.energised[b] and not data.lost[b] and weight[b] > 0
             and b not in tied
             and any(data.der_gf[d] and data.der_p_max_kw[d] > 0
                     for d in np.flatnonzero(data.der_block == b))]
    if not cands:
        return []
    bound = generation_cost_bound(data.der_c1, data.der_c0, data.der_p_max_kw,
                                  _der_s_max_kva(data), data.settings.ramp)
    if bound < min(weight[b] for b in cands):
        return []  # adding any block pays: none is dark for its cost
    scales = data.extreme_points()
    out: list[DarkBlock] = []
    for b in cands:
        if time.perf_counter() > deadline:
            break
        alone = replace(data, lost=np.arange(data.n_blocks) != b,
                        switch_fixed=np.zeros(data.n_switches, int))
        on = np.zeros(data.n_blocks)
        on[b] = 1.0
        _, reps = live_groups(data, scales, on)
        block = with_copies(alone, [scales[e] for e in reps])
        block.groups["zbl"].lb[b] = 1.0
        model = HighsModel(block)
        left = deadline - time.perf_counter()
        if math.isfinite(left):
            model.set_time_limit(max(left, 1e-3))
        sol = model.solve()
        if sol.status != "optimal":
            continue  # infeasible: it cannot run alone (or no answer in time)
        vals = model.values()
        ders = np.flatnonzero(data.der_block == b)
        cost = float(1000.0 * data.der_c1[data.ph_der] @ vals["ps"]
                     + data.der_c0[ders].sum() + vals["theta"][0])
        if cost < weight[b] * (1 - OPTIMALITY_TOL):
            continue  # cheaper than shedding: the plan was not optimal, not a cost matter
        out.append(DarkBlock(
            block=b, load_kw=float(data.load_p_kw[data.load_block == b].sum()),
            weight=float(weight[b]), serve_cost=cost,
            ders=[data.der_ids[d] for d in ders], c1=[float(data.der_c1[d]) for d in ders],
            c0=[float(data.der_c0[d]) for d in ders],
            given=[bool(data.der_cost_given[d]) if len(data.der_cost_given) else False
                   for d in ders]))
    return out


def cost_dark_note(dark: DarkBlock, data: PartitionData) -> str:
    """The result's note on a block left dark for its cost: what it holds, what serving it
    costs against its weight, the costs in use and the setting that changes them (with the
    feeder's default cost, :func:`~feederopt.formulations.partition.default_der_cost`)."""
    st = data.settings
    default_c1 = default_der_cost(st.shed_scale * data.alpha, data.der_p_max_kw,
                                  _der_s_max_kva(data), st.ramp)
    costs = ", ".join(
        f"{d} c1 {c1:g} $/kWh" + (f" c0 {c0:g} $" if c0 else "")
        + ("" if given else " (default)")
        for d, c1, c0, given in zip(dark.ders, dark.c1, dark.c0, dark.given, strict=True))
    than = "more than" if dark.serve_cost > dark.weight else "as much as"
    return (f"block {dark.block} ({dark.load_kw:,.1f} kW) is left dark although it can run as "
            f"a microgrid of its own: serving it costs {dark.serve_cost:,.2f} $ of generation "
            f"and re-dispatch, {than} its load-shed cost {dark.weight:,.2f} $ "
            f"({st.shed_scale:g} x alpha_l per block, whatever its kW), so the optimum sheds "
            f"it because of the DER costs ({costs}); lower them with the settings' dss cost "
            "[c1, c0] of each DER, or leave cost out to get the default (here "
            f"{default_c1:g} $/kWh, low enough that no plan's generation costs as much as a "
            "block: docs/partition-settings.md, \"DER costs\")")
