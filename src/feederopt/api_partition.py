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

from feederopt.algorithms.partition import (
    PartitionResult,
    SampleChecks,
    solve_extensive,
    solve_robust,
)
from feederopt.cases import load_three_phase
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.writing import output_problems
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
              ray_address: str | None = None, time_limit_s: float = 600.0,
              samples: int = 0, ac_check: bool = True, seed: int = 0,
              out: str | Path | None = None, force: bool = False) -> PartitionResult:
    """Partition ``source`` (a ``.dss`` path or a built-in case) into networked microgrids with
    the substation lost; options override the settings file. With ``samples > 0`` the
    post-analyses of the seed run on that many uniform in-box samples (``result.checks``):
    the plan in LinDist3Flow and, with ``ac_check``, in OpenDSS (IV-E), and the deterministic
    plan in LinDist3Flow (IV-D, when the uncertainty is positive). With ``out``, the result
    folder (result.json, microgrids.png, report.html; :mod:`feederopt.report.partition`) is
    written there, atomically; an existing one is replaced only with ``force``. Bad input
    raises :class:`InputError` with every problem found."""
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
    if samples < 0:
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options", "samples must be >= 0",
                                (str(samples),), "samples"))
    if out is not None:
        problems += output_problems(out, force=force, folder=True, option="out")
    if problems:
        raise InputError(problems)
    data = build_partition_data(net, st)
    case = str(net.meta.get("case") or net.name)
    if method == "extensive":
        res = solve_extensive(data, case=case, time_limit_s=time_limit_s)
    else:
        res = solve_robust(data, case=case, workers=workers, ray_address=ray_address,
                           time_limit_s=time_limit_s)
    if samples and res.plan is not None:
        from feederopt.validation.partition import ac_sample_share, in_sample_share

        x = st.uncertainty
        ld3f = in_sample_share(data, res.plan, uncertainty=x, samples=samples, seed=seed)
        ac = ac_sample_share(net, data, res.plan, uncertainty=x, samples=samples,
                             seed=seed) if ac_check else None
        det = None
        if x > 0:
            nominal = build_partition_data(net, replace(st, uncertainty=0.0))
            det_plan = solve_robust(nominal, case=case, time_limit_s=time_limit_s).plan
            if det_plan is not None:
                det = in_sample_share(data, det_plan, uncertainty=x, samples=samples,
                                      seed=seed).share_pct
        res.checks = SampleChecks(samples, ld3f.share_pct, ac.share_pct if ac else None, det)
    if out is not None:
        from feederopt.report.partition import write_partition_folder

        write_partition_folder(out, net, res.to_dict(), force=force)
    return res
