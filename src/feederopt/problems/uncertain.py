"""Reconfiguration under load uncertainty: the problem data and the slaves that scenarios share.

Three things the stochastic (:mod:`feederopt.algorithms.stochastic`) and the robust
(:mod:`feederopt.algorithms.robust`) methods need beyond the deterministic problem:

* **An envelope network.** The DistFlow block takes its big-M values and its passive-feeder
  voltage tightening (``v <= v_set^2`` when no bus injects, see
  :func:`feederopt.formulations.distflow.is_passive`) from the per-unit network it is built
  from, while the loads themselves are data (``pd``, ``qd``) that a slave re-sets per scenario.
  A block for many load vectors must therefore be built from loads that *dominate* all of them:
  :func:`envelope` gives every bus the largest ``|d_s(j)|`` over the scenarios, with a negative
  sign where some scenario injects. So ``sum_j |d(j)|``, which bounds every flow, is at least
  that of every scenario, and a single negative net demand switches the tightening off (it
  would be wrong with PV: a bus with reverse power flow can lie above the source voltage).
  No change to the formulation is needed.
* **Presolve on all scenarios.** The zero-injection chain reduction of
  :mod:`feederopt.problems.presolve` is valid only for buses that carry nothing; a bus with no
  nominal load may host PV or an EV in a scenario, so presolve runs on the envelope
  (:func:`presolve_for`).
* **A penalised slave** (built by :class:`~feederopt.algorithms.slaves.PenalizedEvaluator`):
  for fixed switch states ``y`` and loads ``d``,

      F(y, d) = min  sum_l c_l l_l  (+ priced DG cost)  +  omega * sum(slack)
                s.t. DistFlow SOCP with slack on power balance, voltage and current limits,

  with ``c = r * 1000 * s_base`` [kW per p.u.] and the penalty ``omega`` in **kW per p.u. of
  slack** (power-balance slack in p.u. of ``s_base``, voltage slack in p.u. of squared voltage,
  current slack in p.u. of squared current). It is feasible for every topology, so every
  scenario always has a value and a cut. ``F`` is jointly convex in ``(y, d)`` for relaxed ``y``
  (the optimal value of a conic program whose right-hand side is affine in ``(y, d)``), so the
  duals of the copy constraints ``y = y_hat`` give Benders cuts (Geoffrion, JOTA 10(4), 1972),
  and by Jensen's inequality ``E_s F(y, d_s) >= F(y, E_s d_s)``.

Executors (:mod:`feederopt.execution`) build one slave per worker with
:class:`~feederopt.algorithms.slaves.SlaveFactory` and run
:func:`~feederopt.algorithms.slaves.evaluate_task` on items ``(p, q, y)``; the answer depends
only on the item, so the run is the same for any number of workers. This module imports no
solver.
"""

from __future__ import annotations

import numpy as np

from feederopt.network.perunit import PerUnitNetwork
from feederopt.problems.presolve import fixed_closed, presolve

#: Default penalty [kW per p.u. of slack]: 1e5 kW for 1 p.u. (1 MW at s_base = 1 MVA) of
#: unbalanced power, i.e. 100 kW-equivalent of losses per kW of balance slack, well above the
#: marginal loss of a kW of load (below 0.3 kW/kW on any sensible feeder).
DEFAULT_PENALTY = 1e5



def envelope(pu: PerUnitNetwork, p: np.ndarray, q: np.ndarray) -> PerUnitNetwork:
    """``pu`` with per-bus loads that dominate every row of ``p``, ``q`` ((S, n_bus) p.u.):
    ``max_s |d_s(j)|``, negative where ``min_s d_s(j) < 0`` (see the module docstring)."""
    p, q = np.atleast_2d(p), np.atleast_2d(q)
    p_all = np.vstack([p, pu.p_load[None, :]])
    q_all = np.vstack([q, pu.q_load[None, :]])

    def dom(a: np.ndarray) -> np.ndarray:
        mag = np.abs(a).max(axis=0)
        return np.where(a.min(axis=0) < 0, -mag, mag)

    return pu.with_loads(dom(p_all), dom(q_all))


def presolve_for(pu: PerUnitNetwork, p: np.ndarray, q: np.ndarray) -> tuple[PerUnitNetwork,
                                                                           np.ndarray]:
    """Presolve valid for every load vector in ``p``, ``q``: returns ``pu`` (its own loads)
    with the reductions applied, and the mask of branches fixed closed."""
    env = envelope(pu, p, q)
    _, fixed = presolve(env)
    if not fixed.any():
        return pu, fixed
    return fixed_closed(pu, fixed), fixed
