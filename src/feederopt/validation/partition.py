"""Out-of-sample checks of a partition plan (seed 001, Moring et al. 2024, sections IV-D/IV-E).

:class:`SampleChecker` fixes a plan's first stage (block states, switches, DER set-points) and
asks, for one load realisation, the least total power-balance slack of the LinDist3Flow
recourse of :func:`feederopt.formulations.partition.recourse_block` (DER re-dispatch within
the ramp band, +-``ramp * s_max`` around the set-points: the seed's +-30 %). A realisation is
feasible when that slack is ``<= eps``: every voltage and flow limit then holds with the
re-dispatch. One persistent HiGHS LP serves every sample; a realisation only changes the
coefficients of the block states in the balance rows (and of ``w`` for voltage-dependent loads).

:func:`in_sample_share` draws uniform realisations in the box (one factor per load, all its
phases together, as in the seed's uncertainty set) and reports the feasible share: IV-D for the
deterministic plan, and the robustness certificate for the robust plan (100 % by convexity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from feederopt.formulations.partition import (
    X_GROUPS,
    PartitionData,
    recourse_block,
    slack_terms,
)
from feederopt.network.errors import SolverError
from feederopt.problems.partition import PartitionPlan
from feederopt.solvers.highs_backend import HighsModel


class SampleChecker:
    """The least total slack of the recourse of ``plan`` at any load realisation."""

    def __init__(self, data: PartitionData, plan: PartitionPlan) -> None:
        self.data = data
        nominal = data.nominal()
        self.block = recourse_block(data, nominal)
        self.model = HighsModel(self.block, objective=slack_terms(data))
        x = {"zbl": plan.energised.astype(float), "zsw": plan.closed.astype(float),
             "ps": plan.p_set, "qs": plan.q_set}
        for g in X_GROUPS:
            self.model.set_bounds(g, x[g], x[g])
        start, r0 = {}, 0
        for rows in self.block.rows:
            start[rows.name] = r0
            r0 += rows.m
        self.row0 = {k: start[f"balance_{k}"] for k in ("p", "q")}
        self.zcol = self.model.offset["zbl"]
        self.wcol = self.model.offset["w"]

    def slack(self, scale: np.ndarray) -> float:
        """The least total slack [p.u.] at load scales ``scale`` (one per load)."""
        d = self.data
        h = self.model.h
        blk = d.block_of_node
        for kind, const, loads, kconst, kloads in (
                ("p", d.shunt_p, d.load_p, d.shunt_kp, d.load_kp),
                ("q", d.shunt_q, d.load_q, d.shunt_kq, d.load_kq)):
            demand = const + (loads @ scale if loads.shape[1] else 0.0)
            r0 = self.row0[kind]
            for i in np.flatnonzero(loads.getnnz(axis=1) if loads.shape[1] else []):
                h.changeCoeff(int(r0 + i), int(self.zcol + blk[i]), float(-demand[i]))
            kw = sp.csr_matrix(kconst, copy=True)
            varying = False
            for s_d, k_d in zip(scale, kloads, strict=True):
                if k_d.nnz:
                    kw = kw + s_d * k_d
                    varying = True
            if varying:
                coo = kw.tocoo()
                for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
                    h.changeCoeff(int(r0 + i), int(self.wcol + j), float(-v))
        sol = self.model.solve()
        if sol.status != "optimal":
            raise SolverError(f"sample check: HiGHS status {sol.status}")
        return float(sol.objective)


@dataclass
class SampleShare:
    """The result of :func:`in_sample_share`."""

    samples: int
    feasible: int
    uncertainty: float
    worst_slack: float

    @property
    def share_pct(self) -> float:
        return 100.0 * self.feasible / self.samples if self.samples else float("nan")


def draw_scales(data: PartitionData, uncertainty: float, n: int, seed: int = 0) -> np.ndarray:
    """``n`` uniform realisations of the box: ``1 + X u_d`` with ``u_d ~ U(-1, 1)`` on the
    uncertain loads, 1 elsewhere; shape ``(n, |D|)``."""
    rng = np.random.default_rng(seed)
    out = np.ones((n, len(data.load_ids)))
    idx = np.flatnonzero(data.uncertain)
    out[:, idx] = 1 + uncertainty * rng.uniform(-1.0, 1.0, size=(n, len(idx)))
    return out


def in_sample_share(data: PartitionData, plan: PartitionPlan, *, uncertainty: float,
                    samples: int = 10_000, seed: int = 0) -> SampleShare:
    """The share of uniform realisations in the box of ``uncertainty`` (on ``data``'s
    uncertain loads) at which ``plan`` is LinDist3Flow-feasible (slack ``<= eps``)."""
    checker = SampleChecker(data, plan)
    eps = data.settings.eps
    ok, worst = 0, 0.0
    for scale in draw_scales(data, uncertainty, samples, seed):
        s = checker.slack(scale)
        worst = max(worst, s)
        ok += s <= eps
    return SampleShare(samples, ok, uncertainty, worst)
