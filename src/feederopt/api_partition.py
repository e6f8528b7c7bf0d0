"""Networked-microgrid partitioning as one call (``feederopt partition``): load a three-phase
feeder and its settings, build the problem (:mod:`feederopt.problems.partition`) and solve it by
Algorithm 1 of seed 001 or by the extensive form (:mod:`feederopt.algorithms.partition`).

    >>> from feederopt.api_partition import partition
    >>> partition("ieee37mod", uncertainty=0.1).served_load_kw
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from feederopt.algorithms.partition import PartitionResult, solve_extensive, solve_robust
from feederopt.io import load_three_phase
from feederopt.network.errors import InputError, Problem, ProblemKind
from feederopt.problems.partition import (
    PartitionSettings,
    build_partition_data,
    settings_from_file,
    settings_problems,
)


def default_settings_path(source: Any) -> Path | None:
    """The settings file of a built-in three-phase case, if it has one."""
    from feederopt.cases.threephase import OPENDSS_DIR, THREE_PHASE_CASES

    case = THREE_PHASE_CASES.get(source) if isinstance(source, str) else None
    return OPENDSS_DIR / case.settings if case is not None and case.settings else None


def partition(source: Any, *, settings: str | Path | None = None,
              uncertainty: float | None = None, uncertain_loads: list[str] | None = None,
              k_der: int | None = None, method: str = "cutting_plane", workers: int = 1,
              ray_address: str | None = None, time_limit_s: float = 600.0) -> PartitionResult:
    """Partition ``source`` (a ``.dss`` path or a built-in case) into networked microgrids with
    the substation lost; options override the settings file. Bad input raises
    :class:`InputError` with every problem found."""
    problems: list[Problem] = []
    if method not in ("cutting_plane", "extensive"):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                "method must be cutting_plane or extensive", (method,),
                                "method"))
    net = load_three_phase(source)
    path = settings if settings is not None else default_settings_path(source)
    st = settings_from_file(path, net) if path is not None else PartitionSettings()
    changes: dict[str, Any] = {}
    if uncertainty is not None:
        changes["uncertainty"] = uncertainty
    if uncertain_loads is not None:
        changes["uncertain_loads"] = tuple(uncertain_loads)
    if k_der is not None:
        changes["k_der"] = k_der
    st = replace(st, **changes)
    problems += settings_problems(st, net)
    if problems:
        raise InputError(problems)
    data = build_partition_data(net, st)
    case = str(net.meta.get("case") or net.name)
    if method == "extensive":
        return solve_extensive(data, case=case, time_limit_s=time_limit_s)
    return solve_robust(data, case=case, workers=workers, ray_address=ray_address,
                        time_limit_s=time_limit_s)
