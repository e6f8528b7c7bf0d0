"""The second-stage LP ``Q(x, xi)`` of the day-ahead schedule with its subgradient in ``xi``,
and a local search for the C&CG worst case by mountain climbing.

``Q(x, .)`` is the value of an LP whose right-hand side is affine in ``xi`` (the rows
``dem = pd (1 + gamma (xp - xm))`` and ``pres + spill = p_hat (1 - dev xr)`` of
:func:`~feederopt.formulations.schedule.recourse_block`), so it is convex and piecewise linear
in ``xi``, and the LP's row duals ``y`` give a subgradient: with the rows written ``A u + B xi
(<=|=) r``, ``g = -B^T y`` and, for every ``xi'``,

    ``Q(x, xi') >= Q(x, xi) + g^T (xi' - xi)``.

**Mountain climbing** (Konno, "A cutting plane algorithm for solving bilinear programs",
Math. Program. 11, 1976; the alternating scheme for the max-min subproblem of two-stage robust
optimisation): from a realisation ``xi``, the maximiser ``xi'`` of ``g^T xi'`` over the budget
set (per bus and renewable unit its best ``Gamma`` hours, a sort:
:func:`~feederopt.algorithms.policy_bound.maximise_linear`) has ``g^T xi' >= g^T xi``, hence
``Q(x, xi') >= Q(x, xi)``; repeat while the LP value rises. It ends at a realisation that
maximises its own supporting hyperplane: a local maximum, so a lower bound on ``max_xi Q(x,
xi)`` (a better worst case for the master), never an upper bound. Measured on the 24 h robust
case33bw at the deterministic first stage (gamma 10 %, Gamma 4 h): from the (one-absorber)
policy bound's two candidates (15.2690 $ and 15.3174 $) to 15.3374 $ and 15.3559 $ in 3 and 2
steps, about 1 s each; case69bw from 4.4987 $ and 4.5440 $ to 4.5263 $ and 4.5568 $, about 2 s
each. The steps share one LP (:class:`RecourseLp`, built once per first stage, only the
right-hand sides where ``xi`` enters set per step; until session 40 every step built the LP
anew, 0.03-0.05 s of the 0.3-0.6 s a 24 h step took; docs/schedule.md, Speed).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from feederopt.algorithms.policy_bound import maximise_linear
from feederopt.errors import SolverError
from feederopt.formulations.schedule import UNCERTAIN, ScheduleData, nominal, recourse_block
from feederopt.solvers import interrupt
from feederopt.solvers.highs_backend import HighsModel


@dataclass
class SecondStage:
    """``Q(x, xi)``, the optimal recourse and the subgradient ``dQ/dxi`` (flat per group)."""

    value: float
    values: dict[str, np.ndarray]
    gradient: dict[str, np.ndarray]


class RecourseLp:
    """The second-stage LP at the first stage ``x``, built once and solved for one realisation
    after another (:meth:`solve`): only the right-hand sides where ``xi`` enters change
    (:meth:`~feederopt.solvers.highs_backend.HighsModel.set_data`), and HiGHS starts each
    solve from the last one's basis.

    It is the LP :func:`second_stage` builds for every ``(x, xi)``, the same rows and columns.
    Building is most of the time on small models (the 6-bus, 2-hour feeder of user test
    ut39_sched: 0.11 s of 0.12 s per realisation in ``feederopt check``), so the out-of-sample
    check (:func:`~feederopt.validation.schedule.served_verdicts`) builds one per first stage;
    the measurements are in docs/schedule.md (Speed, "The sample check")."""

    def __init__(self, d: ScheduleData, x: dict[str, np.ndarray],
                 xi: dict[str, np.ndarray] | None = None, time_limit_s: float = 600.0) -> None:
        rb = recourse_block(d, xi if xi is not None else nominal(d))
        for g, v in x.items():
            grp = rb.groups[g]
            grp.lb = np.asarray(v, float).copy()
            grp.ub = np.asarray(v, float).copy()
            grp.integer = False
        self.block = rb
        self.model = HighsModel(rb)
        self.model.set_time_limit(time_limit_s)

    def solve(self, xi: dict[str, np.ndarray] | None = None) -> SecondStage:
        """``Q(x, xi)`` (``xi`` None: the realisation last given), its recourse and
        subgradient."""
        if xi is not None:
            groups = self.block.groups
            self.model.set_data({g: np.asarray(xi.get(g, np.zeros(groups[g].size)), float)
                                 for g in UNCERTAIN})
        with interrupt.shielded():  # one short LP: a stopped run still evaluates its incumbent
            sol = self.model.solve()
        if not sol.has_solution or sol.status != "optimal":
            raise SolverError(f"the second-stage LP ended {sol.status}")
        duals = self.model.row_duals()
        grad = {g: np.zeros(self.block.groups[g].size) for g in UNCERTAIN}
        for rows in self.block.rows:
            for g in UNCERTAIN:
                a = rows.terms.get(g)
                if a is not None:
                    grad[g] -= a.T @ duals[rows.name]
        return SecondStage(float(sol.objective), self.model.values(), grad)


def second_stage(d: ScheduleData, x: dict[str, np.ndarray], xi: dict[str, np.ndarray],
                 time_limit_s: float = 600.0) -> SecondStage:
    """The second-stage LP at the first stage ``x`` and the realisation ``xi`` (module
    docstring): its value, solution and subgradient ``g = -B^T y`` in ``xi``, built anew
    (:class:`RecourseLp` solves one first stage for many realisations)."""
    return RecourseLp(d, x, xi, time_limit_s).solve()


@dataclass
class Climb:
    """The realisation reached, its ``Q`` and the LP values along the way."""

    xi: dict[str, np.ndarray]
    value: float
    path: list[float]
    seconds: float


def _shaped(d: ScheduleData, grad: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {g: v.reshape(d.hours, -1) for g, v in grad.items()}


def climb(d: ScheduleData, x: dict[str, np.ndarray], xi: dict[str, np.ndarray], *,
          max_steps: int = 30, time_limit_s: float = math.inf,
          lp: RecourseLp | None = None) -> Climb:
    """Mountain climbing from ``xi`` at the first stage ``x`` (module docstring). Only on the
    temporal budget set and on the aggregate-ratio set (there the step's point is a binary
    point near the band's LP maximum of ``g^T xi'``, not its exact maximiser, and a step is
    kept only when the LP value rises, as always).
    Every step solves ``lp`` (:class:`RecourseLp` at ``x``, built here when None) at the next
    realisation: one LP per first stage, its right-hand sides set per step."""
    t0 = time.perf_counter()
    if lp is None:
        lp = RecourseLp(d, x)
    cur = lp.solve(xi)
    path = [cur.value]
    for _ in range(max_steps):
        if time.perf_counter() - t0 > time_limit_s:
            break
        nxt = maximise_linear(d, _shaped(d, cur.gradient))[1]
        if all(np.array_equal(nxt[g], xi[g]) for g in UNCERTAIN):
            break
        new = lp.solve(nxt)
        if new.value <= cur.value + 1e-9 * max(1.0, abs(cur.value)):
            break
        xi, cur = nxt, new
        path.append(cur.value)
    return Climb(xi, cur.value, path, time.perf_counter() - t0)


__all__ = ["Climb", "RecourseLp", "SecondStage", "climb", "second_stage"]
