"""The day-ahead schedule of seed 004 as one call (``feederopt schedule``): load a feeder, its
devices and hourly profiles (the built-in ones for ``case33bw``/``case69bw``), build the
problem (:mod:`feederopt.problems.schedule`), solve it deterministically or robustly by C&CG
(:mod:`feederopt.algorithms.ccg`), check it (radiality, SOC, DSM, the hourly AC power flow;
optionally samples of the budget set) and map it to a :class:`ScheduleResult`.

    >>> from feederopt.api_schedule import schedule
    >>> schedule("case33bw", eps=0.1).nominal.losses_mwh
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from feederopt.algorithms.ccg import ScheduleSolution, solve_ccg, solve_deterministic
from feederopt.cases import load
from feederopt.cases.schedule import has_schedule, schedule_paths
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.formulations.schedule import ScheduleData, nominal
from feederopt.io.timeseries import load_devices, load_profiles
from feederopt.io.writing import output_problems
from feederopt.network.container import Network
from feederopt.network.timeseries import DeviceKind, Devices
from feederopt.problems.schedule import (
    BudgetKind,
    ScheduleSettings,
    SocForm,
    answer_violations,
    build_schedule_data,
    commitment_problems,
    settings_problems,
)
from feederopt.results.schedule import (
    ScheduleResult,
    iteration_dicts,
    series,
    totals,
    worst_case_summary,
)
from feederopt.validation.schedule import (
    AcHourCheck,
    ac_check_hours,
    sample_budget_set,
    served_share,
)

__all__ = ["BudgetKind", "ScheduleSettings", "SocForm", "check_schedule_result",
           "schedule", "schedule_inputs"]


def schedule_inputs(source: Any, profiles: str | Path | None = None,
                    devices: str | Path | None = None) -> tuple[Network, Devices, Any]:
    """The network, its devices and its profiles (built-in ones by default)."""
    net = load(source)
    name = source if isinstance(source, str) else ""
    problems: list[Problem] = []
    if (profiles is None or devices is None) and not has_schedule(name):
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "options",
            "this case has no built-in schedule data", (str(source),),
            "profiles" if profiles is None else "devices",
            "give --profiles FILE and --devices FOLDER (case33bw and case69bw have "
            "built-in ones)"))
        raise InputError(problems)
    dev_dir, prof_file = schedule_paths(name) if has_schedule(name) else (None, None)
    dev = load_devices(devices if devices is not None else dev_dir, net)  # type: ignore[arg-type]
    prof = load_profiles(profiles if profiles is not None else prof_file, net,  # type: ignore[arg-type]
                         dev)
    return net, dev, prof


def _ids(dev: Devices) -> dict[str, list[str]]:
    return {"dg": dev.ids(DeviceKind.DG), "ess": dev.ids(DeviceKind.ESS),
            "res": dev.ids(DeviceKind.PV) + dev.ids(DeviceKind.WIND),
            "ev": dev.ids(DeviceKind.EV)}


def schedule(source: Any, *, profiles: str | Path | None = None,
             devices: str | Path | None = None, settings: ScheduleSettings | None = None,
             time_limit_s: float = 900.0, gap: float = 1e-3, ac_check: bool = True,
             samples: int = 0, seed: int = 0, out: str | Path | None = None,
             force: bool = False, sub_time_s: float | None = None,
             deterministic: bool = False, **changes: Any) -> ScheduleResult:
    """Schedule ``source`` for the day; ``changes`` override fields of ``settings``
    (:class:`ScheduleSettings`). Robust (C&CG) when ``gamma > 0`` with a budget, else
    deterministic (also with ``deterministic=True``: the forecast only, while the result keeps
    the budget set in its settings for ``feederopt check``). With ``samples``, that many
    realisations of the budget set check the first stage (and the deterministic one's) served
    share. Bad input raises :class:`InputError`."""
    problems: list[Problem] = []
    for name, enum in (("soc_form", SocForm), ("budget_kind", BudgetKind)):
        if name in changes:
            try:
                changes[name] = enum(changes[name])
            except ValueError:
                problems.append(Problem(ProblemKind.INVALID_VALUE, "options", f"{name} must be "
                                        f"one of {', '.join(e.value for e in enum)}",
                                        (str(changes[name]),), name))
                del changes[name]
    st = replace(settings or ScheduleSettings(), **changes)
    problems += settings_problems(st)
    if out is not None:
        problems += output_problems(out, force=force, folder=True, option="out")
    if problems:
        raise InputError(problems)
    net, dev, prof = schedule_inputs(source, profiles, devices)
    problems = settings_problems(st, net)
    if problems:
        raise InputError(problems)
    d = build_schedule_data(net, dev, prof, st)
    problems = commitment_problems(d)
    if problems:
        raise InputError(problems)
    sub = sub_time_s if sub_time_s is not None else max(time_limit_s / 5, 10.0)
    sol = solve_ccg(d, gap=gap, time_limit_s=time_limit_s, sub_time_s=sub) \
        if st.robust and not deterministic else \
        solve_deterministic(d, time_limit_s=time_limit_s, gap=min(gap, 1e-4))
    res = to_schedule_result(net, dev, d, st, sol, case=str(net.meta.get("case") or net.name)
                             if not isinstance(source, str) else source, ac_check=ac_check)
    res.inputs = {"source": str(source) if isinstance(source, str | Path) else None,
                  "profiles": str(Path(profiles).resolve()) if profiles else None,
                  "devices": str(Path(devices).resolve()) if devices else None}
    if samples:
        res.sample_check = _sample_check(d, st, sol, samples, seed, time_limit_s)
    if out is not None:
        from feederopt.report.schedule import write_schedule_folder

        write_schedule_folder(out, res.to_dict(), force=force)
    return res


def _first_stage(d: ScheduleData, sol: ScheduleSolution) -> dict[str, np.ndarray]:
    x = {"z": sol.z}
    if d.commit and sol.commitment is not None:
        x["u"] = sol.commitment
    if d.hourly:
        for h, g in enumerate(d.y_groups()):
            x[g] = sol.closed[h]
    else:
        x["y"] = sol.closed[0]
    return x


def _sample_check(d: ScheduleData, st: ScheduleSettings, sol: ScheduleSolution,
                  samples: int, seed: int, time_limit_s: float) -> dict[str, Any]:
    xis = sample_budget_set(d, samples, seed)
    share = served_share(d, _first_stage(d, sol), xis)
    det_share = None
    if sol.method != "deterministic":
        det = solve_deterministic(d, time_limit_s=time_limit_s)
        det_share = served_share(d, _first_stage(d, det), xis)
    return {"samples": samples, "seed": seed, "served_pct": share,
            "deterministic_served_pct": det_share}


def to_schedule_result(net: Network, dev: Devices, d: ScheduleData, st: ScheduleSettings,
                       sol: ScheduleSolution, *, case: str, ac_check: bool = True
                       ) -> ScheduleResult:
    from feederopt.network.perunit import to_per_unit

    pu = to_per_unit(net, 1.0)
    ids = _ids(dev)
    branch_ids = pu.branch_ids
    xi_w = sol.worst_xi if sol.worst_xi is not None else nominal(d)
    point = sol.worst_point if sol.worst_point is not None else sol.nominal_point
    from feederopt.formulations.schedule import realised

    pd_real, res_real = realised(d, xi_w)
    violations = answer_violations(d, sol.closed, point, pd_real, res_real)
    open_by_hour = [[branch_ids[b] for b in np.flatnonzero(row < 0.5)] for row in sol.closed]
    robust = sol.method != "deterministic"
    ac: list[AcHourCheck] = []
    if ac_check:
        ac = ac_check_hours(net, d, sol.closed, point)
    settings = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(st).items()}
    return ScheduleResult(
        case=case, method=sol.method, status=sol.status.value, hours=d.hours,
        settings=settings, objective=sol.objective, lower_bound=sol.lower_bound, gap=sol.gap,
        open_lines=open_by_hour[0], open_lines_by_hour=open_by_hour,
        first_stage_cost=sol.first_stage_cost,
        nominal=totals(d, sol.nominal_point, sol.nominal_cost),
        worst=totals(d, point, sol.worst_cost) if robust else None,
        series=series(d, ids, pu.bus_ids, point, xi_w),
        worst_case=worst_case_summary(d, pu.bus_ids, ids["res"], xi_w) if robust else None,
        iterations=iteration_dicts(sol), run_time_s=sol.run_time_s, violations=violations,
        notes=sol.notes, ac_check=ac,
        ess_discharge_mode={i: sol.z.reshape(d.hours, -1)[:, j].astype(int).tolist()
                            for j, i in enumerate(ids["ess"])},
        dg_commitment={i: sol.commitment.reshape(d.hours, -1)[:, j].astype(int).tolist()
                       for j, i in enumerate(ids["dg"])} if sol.commitment is not None else {})


def check_schedule_result(doc: dict[str, Any], *, samples: int, seed: int = 0,
                          time_limit_s: float = 600.0) -> dict[str, Any]:
    """``feederopt check`` of a schedule result (its JSON): rebuild the problem from the
    recorded inputs and settings, fix the recorded first stage (topology and storage modes)
    and report the share of ``samples`` realisations of the budget
    set served without slack (with ``dg_commitment`` the recorded DG commitment is fixed too)."""
    inputs = doc.get("inputs") or {}
    source = inputs.get("source")
    if not source:
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "result", "the result does not "
                                  "record its case", (), "inputs.source")])
    raw = dict(doc.get("settings") or {})
    raw["budget_kind"] = BudgetKind(raw.get("budget_kind", "temporal"))
    raw["soc_form"] = SocForm(raw.get("soc_form", "seed"))
    raw["aggregate"] = tuple(raw.get("aggregate", (0.95, 1.05)))
    raw["uncertain_buses"] = tuple(raw.get("uncertain_buses", ()))
    st = ScheduleSettings(**raw)
    net, dev, prof = schedule_inputs(source, inputs.get("profiles"), inputs.get("devices"))
    d = build_schedule_data(net, dev, prof, st)
    pu_ids = [str(b) for b in net.branches["id"].to_list()]
    closed = np.array([[0.0 if b in set(row) else 1.0 for b in pu_ids]
                       for row in doc["open_lines_by_hour"]])
    modes = doc.get("ess_discharge_mode") or {}
    z = np.array([[modes[i][h] for i in modes] for h in range(d.hours)], float).ravel() \
        if modes else np.zeros(d.hours * len(d.ess_bus))
    x: dict[str, np.ndarray] = {"z": z}
    if d.commit:
        on = doc.get("dg_commitment") or {}
        x["u"] = np.array([[on[i][h] for i in dev.ids(DeviceKind.DG)] for h in range(d.hours)],
                          float).ravel()
    if d.hourly:
        for h, g in enumerate(d.y_groups()):
            x[g] = closed[h]
    else:
        x["y"] = closed[0]
    xis = sample_budget_set(d, samples, seed)
    share = served_share(d, x, xis)
    return {"kind": "schedule_check", "samples": samples, "seed": seed, "served_pct": share,
            "case": source}


def result_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, allow_nan=False, default=lambda v: None if
                      isinstance(v, float) and not math.isfinite(v) else str(v))
