"""Reconfiguration under uncertainty: thin wrappers of :func:`feederopt.solve` with
``scenarios=`` or ``robust=`` (the one solve path; the CLI calls it the same way).

    >>> import feederopt
    >>> from feederopt.uncertainty import solve_scenarios, solve_robust
    >>> from feederopt.io.scenarios import generate_scenarios
    >>> net = feederopt.load("case33bw")
    >>> table = generate_scenarios(net, count=20, pv_share=0.3, seed=1)
    >>> res = solve_scenarios(net, table, workers=2)          # one topology, expected losses
    >>> res.extra["scenarios"][0], res.extra["worst_scenario"]
    >>> rob = solve_robust(net, 0.1, uncertain_loads=["18", "33"])   # loads in +-10 % boxes
    >>> rob.extra["robust"]                                   # one row per extreme point

Both return a :class:`~feederopt.results.result.Result` whose tables (``buses``, ``branches``)
and ``losses_kw`` are those of the chosen topology at the network's **nominal** loads (so that
the AC check compares like with like), whose ``objective`` is the method's own (expected, or
worst-case, value), and whose ``extra`` (merged into the JSON) holds:

* stochastic: ``scenarios`` (one dict per scenario: name, weight, objective_kw, losses_kw,
  violation_pu, feasible, min/max voltage, violations), ``worst_scenario`` and ``stochastic``
  (expected values, penalty, executor);
* robust: ``robust`` (one dict per extreme point: the signs ``u`` of the uncertain loads,
  losses_kw, violation_pu, feasible, min/max voltage) and ``robust_summary``;
* both: ``source`` (what the network was loaded from, for ``feederopt check``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from feederopt.algorithms.base import ProgressCallback
from feederopt.api import solve
from feederopt.execution import Executor
from feederopt.io.scenarios import ScenarioSet
from feederopt.network.container import Network
from feederopt.problems.reconfiguration import DEFAULT_RADIALITY, RadialityModel
from feederopt.problems.uncertain import DEFAULT_PENALTY
from feederopt.results.result import Result


def solve_scenarios(
    network: Network | Any,
    scenarios: ScenarioSet | pl.DataFrame | str | Path,
    *,
    gap: float = 1e-4,
    time_limit: float = 600.0,
    radiality: RadialityModel | str = DEFAULT_RADIALITY,
    penalty: float = DEFAULT_PENALTY,
    workers: int | None = 1,
    ray_address: str | None = None,
    executor: Executor | None = None,
    ac_check: bool = True,
    master_physics: bool = True,
    solver: str | None = None,
    iteration_limit: int = 10_000,
    switch_cost_kw: float | None = None,
    progress: ProgressCallback | None = None,
) -> Result:
    """One radial topology for every scenario, minimising the expected losses plus ``penalty``
    [kW per p.u. of slack] times the expected slack (multi-cut Benders,
    :mod:`feederopt.algorithms.stochastic`): ``feederopt.solve(network, scenarios=...)``.

    ``scenarios``: a :class:`ScenarioSet`, a long table or the path of one (see
    :mod:`feederopt.io.scenarios`). ``workers``/``ray_address`` choose the executor of the
    scenario slaves (:func:`feederopt.execution.make_executor`) unless ``executor`` is given.
    """
    return solve(network, scenarios=scenarios, penalty=penalty, gap=gap, time_limit=time_limit,
                 radiality=radiality, workers=None if executor else workers,
                 ray_address=ray_address, executor=executor, ac_check=ac_check,
                 master_physics=master_physics, solver=solver, iteration_limit=iteration_limit,
                 switch_cost_kw=switch_cost_kw, progress=progress)


def solve_robust(
    network: Network | Any,
    uncertainty: float,
    *,
    uncertain_loads: Sequence[str] | None = None,
    budget: int | None = None,
    gap: float = 1e-4,
    time_limit: float = 600.0,
    radiality: RadialityModel | str = DEFAULT_RADIALITY,
    workers: int | None = 1,
    ray_address: str | None = None,
    executor: Executor | None = None,
    max_vertices: int | None = None,
    oracle: str = "auto",
    oracle_time_limit: float = 300.0,
    ac_check: bool = True,
    master_physics: bool = True,
    solver: str | None = None,
    iteration_limit: int = 10_000,
    switch_cost_kw: float | None = None,
    progress: ProgressCallback | None = None,
    source_vm_band: tuple[float, float] | str | None = None,
) -> Result:
    """The radial topology feasible for every load in the set ``nominal +- uncertainty``
    (relative; ``uncertain_loads`` load ids, default all; ``budget`` Gamma, default none) with
    the least worst-case losses (:mod:`feederopt.algorithms.robust`):
    ``feederopt.solve(network, robust=...)``. Status ``infeasible`` when no topology is feasible
    at every extreme point.

    ``oracle``: ``monotone`` (evaluate the upper corner only: exact on a passive feeder with
    a box without budget, see :mod:`feederopt.algorithms.robust`), ``enumerate`` the extreme
    points, search the worst one exactly by the ``dual`` MISOCP (SCIP, at most
    ``oracle_time_limit`` seconds each), or ``auto`` (monotone where it is exact, else
    enumerate up to ``max_vertices``, default 1024, else dual). ``source_vm_band`` ``(a, b)``
    [p.u.]: every source anywhere in that band as well (the extreme points take each source at
    ``a`` or ``b``); None: the network's set-points."""
    return solve(network, robust=uncertainty, uncertain_loads=uncertain_loads, budget=budget,
                 gap=gap, time_limit=time_limit, radiality=radiality,
                 workers=None if executor else workers, ray_address=ray_address,
                 executor=executor, max_vertices=max_vertices, oracle=oracle,
                 oracle_time_limit=oracle_time_limit, ac_check=ac_check,
                 master_physics=master_physics, solver=solver, iteration_limit=iteration_limit,
                 switch_cost_kw=switch_cost_kw, progress=progress,
                 source_vm_band=source_vm_band)
