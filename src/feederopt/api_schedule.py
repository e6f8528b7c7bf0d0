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
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feederopt._version import stamped
from feederopt.algorithms.base import (
    ProgressCallback,
    interrupted_label,
    report_phase,
    sample_progress,
)
from feederopt.algorithms.ccg import ScheduleSolution, solve_ccg, solve_deterministic
from feederopt.cases import load, recorded_tie_rule, reread_tie_rule, tie_rule_problems
from feederopt.cases.registry import has_case
from feederopt.cases.schedule import has_schedule, schedule_paths
from feederopt.errors import (
    FeederoptError,
    InfeasibleError,
    InputError,
    OutputNotWrittenError,
    Problem,
    ProblemKind,
    note_text,
    option_ref,
)
from feederopt.forking import check_not_forked
from feederopt.formulations.schedule import ScheduleData, nominal
from feederopt.io._common import read_long_table
from feederopt.io.digests import input_change_problems, input_digests
from feederopt.io.frames import as_polars, is_frame, source_problems
from feederopt.io.pandapower import TieRule
from feederopt.io.timeseries import (
    PROFILE_FILES,
    device_rating_warnings,
    load_devices,
    load_factor_warnings,
    load_profiles,
    profile_notes,
    replaced_table,
    unprofiled_load_notes,
)
from feederopt.io.writing import output_problems, result_json_path
from feederopt.network.container import Network, resolve_branch_ids
from feederopt.network.id_lists import blank_entry_problems
from feederopt.network.timeseries import DeviceKind, Devices
from feederopt.options import (
    TIME_LIMIT_S,
    count_problems,
    gap_problems,
    id_list,
    option_names,
    seed_problems,
    switch_problems,
    time_limit_problems,
)
from feederopt.problems.schedule import (
    BudgetKind,
    ScheduleSettings,
    SocForm,
    answer_violations,
    budget_refs,
    build_schedule_data,
    commitment_problems,
    ev_capacity_notes,
    export_problems,
    fractional_budget_problems,
    is_radial,
    network_storage,
    price_notes,
    renewable_budget_problems,
    seed_soc_notes,
    settings_id_problems,
    settings_problems,
    shunt_notes,
    uncertain_bus_problems,
)
from feederopt.results.document import schedule_document_problems
from feederopt.results.schedule import (
    ScheduleResult,
    iteration_dicts,
    recorded_checks,
    recorded_verdict,
    series,
    totals,
    unpriced_loss_notes,
    worst_case_summary,
)
from feederopt.scalars import is_real, is_switch, is_whole
from feederopt.solvers import interrupt
from feederopt.validation.base_case import hourly_base_case
from feederopt.validation.montecarlo import samples_problem
from feederopt.validation.schedule import (
    AcHourCheck,
    ac_check_hours,
    ac_violations,
    ac_within_limits,
    band_diagnosis,
    losses_above_base_note,
    sample_budget_set,
    sample_check_within_limits,
    sampling_description,
    schedule_verdict_causes,
    served_share,
    served_verdicts,
)

__all__ = ["BudgetKind", "ScheduleSettings", "SocForm", "check_schedule_problems",
           "check_schedule_result", "has_budget_set", "schedule", "schedule_inputs"]


def schedule_inputs(source: Any, profiles: str | Path | pl.DataFrame | None = None,
                    devices: str | Path | None = None, hours: int | None = None,
                    notes: list[str] | None = None,
                    ties: TieRule = "auto") -> tuple[Network, Devices, Any]:
    """The network, its devices and its profiles (built-in ones by default) for a horizon of
    ``hours`` (the profiles must cover its first ``hours`` hours; None: the day, 24 hours,
    where a 25-hour day is refused with a hint to choose its first 24). The notes say which
    clock time hour 0 is, for a table of timestamps, and which hours of a 25-hour day were
    left out (:func:`~feederopt.io.timeseries.profile_notes`).
    A network without built-in data needs ``profiles``; without ``devices`` it has no
    devices (a note in ``notes``), as with a devices folder that holds no device table. A
    profile table without rows is a note too (every load at factor 1), as are the
    plausibility warnings of the profiles and device tables
    (:func:`~feederopt.io.timeseries.load_factor_warnings`,
    :func:`~feederopt.io.timeseries.device_rating_warnings`). ``ties``: the tie rule of a
    pandapower net or ``.json`` file (:func:`feederopt.load`)."""
    net = load(source, ties=ties)
    name = _schedule_case(source, net)
    builtin = has_schedule(name)
    if profiles is None and not builtin:
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "options",
            f"{_network_named(source, net)} has no built-in schedule data",
            (str(source),) if isinstance(source, str | Path) else (), "profiles",
            f"give {option_ref('profiles', 'FILE')} (and {option_ref('devices', 'FOLDER')} "
            "for devices; case33bw and case69bw have built-in ones)")])
    dev_dir, prof_file = schedule_paths(name) if builtin else (None, None)
    if devices is None and not builtin:
        dev = Devices.empty()
        if notes is not None:
            notes.append(note_text(f"no {option_ref('devices')} given: no devices (DG, "
                                   "storage, PV, wind, EV) are modelled, only the "
                                   "network's own loads and generators"))
    else:
        beside = tuple(p for p in (profiles, prof_file) if isinstance(p, (str, Path)))
        dev = load_devices(devices if devices is not None else dev_dir, net,  # type: ignore[arg-type]
                           ignore=beside)
        if devices is not None and notes is not None and not any(
                dev.table(k).height for k in DeviceKind):
            notes.append(f"the devices folder {devices} holds no device table: no devices "
                         "are modelled")
        if devices is not None and notes is not None:
            notes += _unused_profile_notes(Path(devices), profiles, name)
    # a table of the user's in place of a built-in case's: the hints say it replaces it
    replaced = (replaced_table(name, prof_file) if builtin and profiles is not None
                and devices is None and prof_file is not None else "")
    table: Any = profiles if profiles is not None else prof_file
    if profiles is None and devices is not None and dev_dir is not None and prof_file is not None:
        # the built-in profiles with the user's devices folder: rows of built-in units that
        # the folder does not define are not the user's to correct (ut47_sched #3)
        table, dropped = _builtin_rows_of_own_units(prof_file, load_devices(dev_dir, net), dev)
        if dropped and notes is not None:
            notes.append(f"the built-in profiles of {name} have rows for {len(dropped)} unit(s) "
                         f"that the devices folder {devices} does not define: "
                         f"{', '.join(dropped)}; left out")
    prof = load_profiles(table, net, dev, need_hours=hours, builtin=replaced)
    if notes is not None and not prof.elements:  # a header-only table (ut_sched4 #5)
        notes.append(f"the profile table {profiles if profiles is not None else prof_file} has "
                     "no rows: every load keeps factor 1 (its nominal p_mw and q_mvar) in every "
                     "hour and the purchase price is c_buy")
    if notes is not None:  # hour 0's clock time; a 25-hour day's hours left out
        notes += profile_notes(prof)
    if notes is not None:  # loads that the table leaves out while it profiles others
        notes += unprofiled_load_notes(prof, net, replaced)
    if notes is not None:  # profiles and device tables in the wrong units (percent, kW)
        notes += [str(p) for p in (*load_factor_warnings(prof, [str(x) for x in net.loads[
            "id"].to_list()]), *device_rating_warnings(dev, net))]
    return net, dev, prof


def _schedule_case(source: Any, net: Network) -> str:
    """The built-in case whose schedule data (devices, profiles) ``source`` takes: a name as
    given, or the case that a :class:`Network` was read from by its name (``meta["source"]``,
    which :func:`feederopt.load` records: ``schedule(feederopt.load("case33bw"))`` is
    ``schedule("case33bw")``; user test ut50_pyapi #3 refused it); else ``""``. A
    pandapower net is none, even one named like a case (its tables are the user's)."""
    if isinstance(source, str):
        return source
    named = net.meta.get("source") if isinstance(source, Network) else None
    return named if isinstance(named, str) and has_case(named) else ""


def _network_named(source: Any, net: Network) -> str:
    """``source`` in a few words for a problem: the name or path given, else the kind of
    object and the network's name (never its repr: a Network's is thousands of characters of
    table art)."""
    if isinstance(source, str | Path):
        return repr(str(source))
    what = "a Network" if isinstance(source, Network) else "a pandapower net"
    called = net.meta.get("case") or net.name
    return f"{what} ({called!r})" if called else what


def _builtin_rows_of_own_units(prof_file: str | Path, builtin: Devices, own: Devices
                               ) -> tuple[str | Path | pl.DataFrame, list[str]]:
    """The built-in profile table ``prof_file`` without the rows of the built-in devices
    (``builtin``) that the user's devices folder (``own``) does not define, and their ids in
    the table's order; the file itself when there are none. Before (user test ut47_sched #3),
    a devices folder with no wind units (``dev_nodg``) was refused with "profiles [WT11, WT19,
    WT26].element: unknown element", rows the user never wrote."""
    ours = {i for k in DeviceKind for i in own.ids(k)}
    theirs = [i for k in DeviceKind for i in builtin.ids(k) if i not in ours]
    if not theirs:
        return prof_file, []
    df = read_long_table(prof_file, "profile table")
    elements = df["element"].cast(pl.String).str.strip_chars()
    gone = [e for e in dict.fromkeys(elements.to_list()) if e in set(theirs)]
    if not gone:
        return prof_file, []
    return df.filter(~elements.is_in(gone)), gone


def _unused_profile_notes(devices: Path, read: Any, case: str) -> list[str]:
    """A note on a ``profiles.csv``/``.parquet`` in the devices folder that is not the profile
    table read (``read``: the ``--profiles`` file or table; None: the built-in one of
    ``case``), which :func:`~feederopt.io.timeseries.load_devices` passes over: before, a
    built-in case run with ``--devices`` of a copied folder used its built-in profiles, an
    edited ``profiles.csv`` beside the devices unread without a word."""
    path = Path(read) if isinstance(read, (str, Path)) else None
    notes = []
    for f in (devices / n for n in PROFILE_FILES):
        if not os.path.lexists(f) or (path is not None and path.exists() and f.exists()
                                      and f.samefile(path)):
            continue
        source = (f"the built-in profiles of {case}" if read is None else
                  str(path) if path is not None else "the profile table given")
        notes.append(f"{f} is not read: the profiles are read from {source} (give --profiles "
                     f"{f} to read it)")
    return notes


def _ids(dev: Devices) -> dict[str, list[str]]:
    return {"dg": dev.ids(DeviceKind.DG), "ess": dev.ids(DeviceKind.ESS),
            "res": dev.ids(DeviceKind.PV) + dev.ids(DeviceKind.WIND),
            "ev": dev.ids(DeviceKind.EV)}


@option_names({**TIME_LIMIT_S, "sub_time": "sub_time_s"}, passes_to=ScheduleSettings)
@interrupt.handle_signals("the best schedule so far, its bound and gap are")
def schedule(source: Any, *, profiles: str | Path | pl.DataFrame | Any = None,
             devices: str | Path | None = None, settings: ScheduleSettings | None = None,
             time_limit_s: float = 900.0, gap: float = 1e-3, ac_check: bool = True,
             samples: int = 0, seed: int = 0, out: str | Path | None = None,
             force: bool = False, sub_time_s: float | None = None,
             deterministic: bool = False, prior_problems: Sequence[Problem] = (),
             progress: ProgressCallback | None = None,
             notice: Callable[[str], None] | None = None, ties: TieRule = "auto",
             **changes: Any) -> ScheduleResult:
    """Schedule ``source`` for the day; ``changes`` override fields of ``settings``
    (:class:`ScheduleSettings`). Robust (C&CG) when ``gamma > 0`` with a budget, else
    deterministic (also with ``deterministic=True``: the forecast only, while the result keeps
    the budget set in its settings for ``feederopt check``). With ``samples``, that many
    realisations of the budget set check the first stage (and the deterministic one's) served
    share. Bad input raises :class:`InputError` with every problem, before any solving,
    together with ``prior_problems`` (those the caller found, e.g. the CLI's ``--json``
    path). ``progress`` (:data:`~feederopt.algorithms.base.ProgressCallback`) gets the
    phases, C&CG's iterations and the samples done; ``notice`` the notes on the inputs (no
    devices modelled) before the solve (they are in the result's notes too). Ctrl-C or
    SIGTERM (in the main thread) stops the run as its time limit would, with status
    ``interrupted`` and no sample check (:mod:`feederopt.solvers.interrupt`). With ``out``,
    the result folder is written there (:mod:`feederopt.report.schedule`); one that cannot
    be written after the run (made read-only meanwhile) raises
    :class:`~feederopt.errors.OutputNotWrittenError`, whose ``result`` is the answer.
    ``ties``: the tie rule of a pandapower net or ``.json`` file (:func:`feederopt.load`),
    recorded in the result's ``inputs`` for ``feederopt check``."""
    check_not_forked("feederopt.schedule")
    # a profile table in memory: polars as it is, pandas converted (ut_sched4 #11: a
    # DataFrame was "ambiguous" (polars) or "expected str, bytes or os.PathLike" (pandas));
    # anything else, and devices that are no path, named by type (a bare TypeError before)
    wrong = source_problems(profiles, "profiles", "a file path or a polars or pandas "
                            "DataFrame") + source_problems(
        devices, "devices", "the path of a devices folder", frames=False)
    if wrong:
        prior_problems, profiles, devices = [*prior_problems, *wrong], None, None
    elif is_frame(profiles):
        profiles = as_polars(profiles, "profiles")
    st, problems = _settings(settings, changes)
    problems = [*prior_problems, *problems, *tie_rule_problems(ties, source)]
    problems += run_problems(st, time_limit_s=time_limit_s, gap=gap, samples=samples,
                             deterministic=deterministic, sub_time_s=sub_time_s)
    # by the one rule of every entry point, before any work (ac_check="no" was read as true;
    # seed=-1 failed in numpy after the solve: user test ut48_pyapi #1, #5)
    problems += switch_problems(ac_check=ac_check, deterministic=deterministic,
                                force=force) + seed_problems(seed)
    if out is not None:
        problems += output_problems(out, force=force, folder=True, option="out", inputs=[
            x for x in (source, profiles, devices) if isinstance(x, (str, Path))],
            command="schedule")
    if problems:
        # with the ids of the settings that the network lacks, when it can be read: all in
        # one run (before, --gamma -1 hid the unknown bus of --uncertain-buses until the next)
        raise InputError([*problems, *_id_problems(source, ties, st, problems)])
    input_notes: list[str] = []
    # the files as read, so that `feederopt check` can tell when they change (ut34_schedule #3)
    digests = input_digests([x for x in (source, profiles, devices) if isinstance(x, str | Path)],
                            skip=PROFILE_FILES)
    # the horizon given (hours=, or settings): a 25-hour day runs its first hours, noted;
    # the default day of 24 hours refuses one with a hint (ut37_errs2 #7)
    hours_given = "hours" in changes or settings is not None
    net, dev, prof = schedule_inputs(source, profiles, devices,
                                     st.hours if hours_given else None, input_notes, ties)
    input_notes += seed_soc_notes(st, dev)  # storage that gains energy in the seed's SOC form
    input_notes += price_notes(prof, st)  # the hourly purchase price of the profile table
    input_notes += shunt_notes(net)  # capacitor banks and line charging at 1 p.u.
    # the net's own pandapower storage: fixed p_mw all day (a note), refused where the ESS
    # table lists the same unit again (counted twice)
    storage_notes, storage_problems = network_storage(net, dev)
    input_notes += storage_notes
    for text in input_notes:
        if notice is not None:
            notice(text)
    problems = settings_problems(st, net) + storage_problems
    if problems:
        raise InputError(problems)
    d = build_schedule_data(net, dev, prof, st)
    ev_notes = ev_capacity_notes(d, dev.ids(DeviceKind.EV))  # more than the chargers deliver
    for text in ev_notes:
        if notice is not None:
            notice(text)
    input_notes += ev_notes
    problems = uncertain_bus_problems(net, d, st) + renewable_budget_problems(
        d, st, (*dev.ids(DeviceKind.PV), *dev.ids(DeviceKind.WIND))) + commitment_problems(
        d) + export_problems(
        d, tuple(str(g) for g in net.generators.filter(pl.col("in_service"))["id"].to_list()))
    if problems:
        raise InputError(problems)
    sub = sub_time_s if sub_time_s is not None else max(time_limit_s / 5, 10.0)
    try:
        if st.robust and not deterministic:
            sol = solve_ccg(d, gap=gap, time_limit_s=time_limit_s, sub_time_s=sub,
                            progress=progress)
        else:
            report_phase(progress, "deterministic MILP")
            sol = solve_deterministic(d, time_limit_s=time_limit_s, gap=min(gap, 1e-4))
    except InfeasibleError as exc:  # say where the band binds (user test ut_sched3 #2)
        from feederopt.network.perunit import to_per_unit

        pu = to_per_unit(net, 1.0)
        why = band_diagnosis(net, d, pu.initial_closed().astype(float), list(pu.bus_ids))
        raise InfeasibleError(f"{exc}; {why}" if why else str(exc)) from None
    stopped = interrupt.requested()  # Ctrl-C: report at once, without the 24 AC runs
    if ac_check and not stopped:
        report_phase(progress, f"AC check of {d.hours} h (pandapower)")
    res = to_schedule_result(net, dev, d, st, sol, case=str(net.meta.get("case") or net.name)
                             if not isinstance(source, str) else source,
                             ac_check=ac_check and not stopped)
    res.notes = [*input_notes, *res.notes]
    if ac_check and stopped:
        res.notes.append("AC check not run: the run was interrupted")
    res.status = interrupted_label(res.status)  # Ctrl-C: the incumbent, as at a time limit
    # the absolute path of a file or folder (``check`` from another folder reads the same
    # one), else the built-in case or study-case name as given (user test ut34_schedule)
    res.inputs = {"source": (str(Path(source).resolve()) if Path(source).exists()
                             else str(source)) if isinstance(source, str | Path) else None,
                  "profiles": str(Path(profiles).resolve())
                  if isinstance(profiles, str | Path) else None,
                  "devices": str(Path(devices).resolve()) if devices else None,
                  "sha256": digests,
                  # the clock time of hour 0 and of each hour (a table of timestamps; None
                  # and [] for hour indices): before, a table from 06:00 kept no start time
                  "profile_start": prof.start, "profile_times": list(prof.clock)}
    tie_rule = recorded_tie_rule(net)
    if res.inputs["source"] is not None and tie_rule is not None:
        res.inputs["ties"] = tie_rule  # how `feederopt check` reads the file again
    if samples and not interrupt.requested():
        res.sample_check = _sample_check(d, st, sol, samples, seed, time_limit_s, progress)
    if out is not None:
        from feederopt.report.schedule import write_schedule_folder

        try:
            write_schedule_folder(out, res.to_dict(), force=force)
        except InputError as exc:  # the path became unwritable during the run
            raise OutputNotWrittenError(exc.problems, res) from None
    return res


def _id_problems(source: Any, ties: TieRule, st: ScheduleSettings,
                 problems: Sequence[Problem]) -> list[Problem]:
    """For a run that other ``problems`` stop before the network is read (its options, its
    output paths): the fixed branches and uncertain buses of ``st`` that the network of
    ``source`` lacks (:func:`~feederopt.problems.schedule.settings_id_problems`), so that one
    run names them with the others; none when ``st`` names no ids, when ``problems`` name
    the tie rule the network is read by, or when the network cannot be read (its own error
    then comes on the next run, alone)."""
    if not (st.uncertain_buses or st.fixed_open or st.fixed_closed) or any(
            p.field == "ties" for p in problems):
        return []
    try:
        net = load(source, ties=ties)
        return settings_id_problems(st, net)
    except FeederoptError:
        return []


def _settings(settings: ScheduleSettings | None, changes: dict[str, Any]
              ) -> tuple[ScheduleSettings, list[Problem]]:
    """``settings`` (default :class:`ScheduleSettings`) with ``changes`` (enum fields may be
    strings; the id lists ``uncertain_buses``, ``fixed_open`` and ``fixed_closed`` may be
    comma-separated strings, and their empty entries are refused), and every problem of the
    result."""
    problems: list[Problem] = []
    blanks: list[Problem] = []
    changes = dict(changes)
    for name in ("uncertain_buses", "fixed_open", "fixed_closed"):
        # an id list: a comma-separated string or a sequence, whose empty entries
        # (["5", ""]) are ids left out, refused by position (before: an unknown bus '')
        if changes.get(name) is not None:
            blanks += blank_entry_problems(name, changes[name])
            changes[name] = id_list(changes[name])
    for name, enum in (("soc_form", SocForm), ("budget_kind", BudgetKind)):
        if name in changes:
            try:
                changes[name] = enum(changes[name])
            except ValueError:
                problems.append(Problem(ProblemKind.INVALID_VALUE, "options", f"{name} must be "
                                        f"one of {', '.join(e.value for e in enum)}",
                                        (str(changes[name]),), name))
                del changes[name]
    base = settings or ScheduleSettings()
    for name, want in _wrong_types(base, changes).items():
        default, value = getattr(base, name, None), changes.pop(name)
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options", f"{name} must be "
                                f"{want}, not {type(value).__name__} {value!r}",
                                (repr(value),), name, f"e.g. {name}={default!r}"))
    st = replace(base, **changes)
    if problems:  # the other checks would compare the wrongly typed values
        return st, blanks + problems
    return st, blanks + settings_problems(st)


def _wrong_types(base: ScheduleSettings, changes: Mapping[str, Any]) -> dict[str, str]:
    """The fields of ``changes`` whose value is not of the type of ``base``'s (a switch, a
    whole number of hours, a number), each with the type it must have: a wrong type
    (``eps="0.1"``) was a TypeError (ut_sched4 #11)."""
    out: dict[str, str] = {}
    for name, value in changes.items():
        default = getattr(base, name, None)
        if isinstance(default, bool):
            ok = is_switch(value)
            want = "True or False"
        elif name == "hours":  # a count: "hours is 3.0, must be within 1..24" said nothing
            ok = is_whole(value)
            want = "a whole number"
        elif isinstance(default, int | float) or name == "loss_tol":
            ok = value is None if name == "loss_tol" and value is None else is_real(value)
            want = "a number" + (" or None" if name == "loss_tol" else "")
        else:
            continue
        if not ok:
            out[name] = want
    return out


def run_problems(st: ScheduleSettings, *, time_limit_s: Any = 900.0, gap: Any = 1e-3,
                 samples: Any = 0, deterministic: bool = False,
                 sub_time_s: Any = None) -> list[Problem]:
    """Every problem of :func:`schedule`'s run options for the settings ``st``, each naming
    its option. The time limits and the gap follow every command's rules
    (:func:`feederopt.options.time_limit_problems`, :func:`~feederopt.options.gap_problems`)."""
    out: list[Problem] = []

    def bad(name: str, message: str, hint: str) -> None:
        out.append(Problem(ProblemKind.INVALID_VALUE, "options", message, field=name,
                           hint=hint))

    out += time_limit_problems(time_limit_s)
    if sub_time_s is not None:
        out += time_limit_problems(sub_time_s, option="sub_time")
    out += gap_problems(gap)
    bad_samples = count_problems("samples", samples, example=100,
                                 note=", or 0 for no sample check")
    out += bad_samples
    if not bad_samples and samples > 0 and not st.robust:
        bad("samples", f"{option_ref('samples')} draws realisations of the budget set, and "
            "this schedule has none (no load budget with gamma > 0, no renewable budget): "
            "every sample would be the forecast", f"add {budget_refs()} "
            f"(with {option_ref('deterministic', True)} for the deterministic schedule in "
            f"that set), or leave {option_ref('samples')} out")
    if deterministic is True and not st.robust:
        bad("deterministic", f"{option_ref('deterministic', True)} keeps a budget set beside "
            "the forecast schedule, and there is none: the schedule is deterministic already",
            f"add {budget_refs()}, or leave {option_ref('deterministic', True)} out")
    return out


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
                  samples: int, seed: int, time_limit_s: float,
                  progress: ProgressCallback | None = None) -> dict[str, Any]:
    xis = sample_budget_set(d, samples, seed)
    share = served_share(d, _first_stage(d, sol), xis,
                         progress=sample_progress(progress, "served without slack", samples))
    det_share = None
    if sol.method != "deterministic":
        report_phase(progress, "deterministic MILP (for the sample check)")
        det = solve_deterministic(d, time_limit_s=time_limit_s)
        det_share = served_share(d, _first_stage(d, det), xis, progress=sample_progress(
            progress, "deterministic schedule, served without slack", samples))
    return {"samples": samples, "seed": seed, "served_pct": share,
            "served": round(share * samples / 100.0),
            "deterministic_served_pct": det_share,
            "sampling": sampling_description(d, seed)}


def _ev_unmet_notes(d: ScheduleData, ev_ids: list[str],
                    points: dict[str, dict[str, np.ndarray]]) -> list[str]:
    """A note per realisation whose schedule leaves EV stations short of their daily energy
    (the slack ``short``, priced at ``c_shed``), naming them (user test ut_sched3 #4: only
    the JSON's ``ev_unmet_mwh`` said so)."""
    out = []
    for label, point in points.items():
        short = np.asarray(point.get("short", np.zeros(0)), float)
        idx = np.flatnonzero(short > 1e-6)
        if len(idx):
            names = ", ".join(f"{ev_ids[k]} {short[k]:.4g} of {d.ev_energy[k]:.4g} MWh"
                              for k in idx)
            out.append(f"{label}: EV energy not delivered, {short.sum():.4g} MWh ({names}), "
                       f"priced at the curtailment price {d.c_shed:g} $/MWh")
    return out


def to_schedule_result(net: Network, dev: Devices, d: ScheduleData, st: ScheduleSettings,
                       sol: ScheduleSolution, *, case: str, ac_check: bool = True
                       ) -> ScheduleResult:
    from feederopt.network.perunit import to_per_unit
    from feederopt.results.mapping import open_branch_rows

    pu = to_per_unit(net, 1.0)
    ids = {**_ids(dev), "gen": list(pu.gen_ids)}
    branch_ids = pu.branch_ids
    xi_w = sol.worst_xi if sol.worst_xi is not None else nominal(d)
    point = sol.worst_point if sol.worst_point is not None else sol.nominal_point
    from feederopt.formulations.schedule import realised

    pd_real, res_real = realised(d, xi_w)
    violations = answer_violations(d, sol.closed, point, pd_real, res_real)
    open_by_hour = [[branch_ids[b] for b in np.flatnonzero(row < 0.5)] for row in sol.closed]
    # the same lines with their from-to buses, as `feederopt solve` gives them
    branches_by_hour = [open_branch_rows(net, pu, row) for row in sol.closed]
    robust = sol.method != "deterministic"
    # a robust run stopped before any worst-case search has no worst case: its "worst" would
    # be the forecast's totals (ut32_time #3), so it is null and ``worst_searched`` false
    searched = robust and sol.worst_searched
    ac: list[AcHourCheck] = []
    base: dict[str, Any] = {}
    if ac_check:
        ac = ac_check_hours(net, d, sol.closed, point)
        violations = [*violations, *ac_violations(ac, import_limit=d.ps_max)]
        # the base case: the network's own switch states in every hour, with the same
        # injections as the check above (the schedule's dispatch of the realisation it
        # checks), so that the two differ in the topology alone (validation.base_case)
        own = pu.initial_closed()
        base = hourly_base_case(
            ac_check_hours(net, d, np.tile(own.astype(float), (d.hours, 1)), point),
            open_branch_rows(net, pu, own))
    within = ac_within_limits(ac, import_limit=d.ps_max)
    settings = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(st).items()}
    notes = [*sol.notes, *_ev_unmet_notes(d, ids["ev"], {
        "forecast": sol.nominal_point, **({"worst case": point} if searched else {})}),
        # losses the piecewise-linear loss does not price at all (every flow below its
        # first tangent; ut33: an LV feeder under the fixed 0.05 MW point)
        *unpriced_loss_notes(d, {"forecast": sol.nominal_point,
                                 **({"worst case": point} if searched else {})})]
    # the moves from the network's present switch states to the day's (hour 0's) topology:
    # reported, not priced (ut47_sched #6)
    present = pu.initial_closed()
    first = np.asarray(sol.closed[0]) > 0.5
    moves = {"to_open": [branch_ids[b] for b in np.flatnonzero(present & ~first)],
             "to_close": [branch_ids[b] for b in np.flatnonzero(~present & first)]}
    switching = {**moves, "moves": len(moves["to_open"]) + len(moves["to_close"]),
                 "topology": "hour 0's topology" if st.hourly else "the day's topology"}
    # a schedule that loses more in AC than the network as operated (ut47_sched #1)
    if (above := losses_above_base_note(ac, base, loss_tol=st.loss_tol,
                                        status=sol.status.value)) is not None:
        notes.append(above)
    return ScheduleResult(
        case=case, method=sol.method, status=sol.status.value, hours=d.hours,
        settings=settings, objective=sol.objective, lower_bound=sol.lower_bound, gap=sol.gap,
        open_lines=open_by_hour[0], open_lines_by_hour=open_by_hour,
        first_stage_cost=sol.first_stage_cost,
        nominal=totals(d, sol.nominal_point, sol.nominal_cost, sol.closed),
        worst=totals(d, point, sol.worst_cost, sol.closed) if searched else None,
        series=series(d, ids, pu.bus_ids, point, xi_w, sol.closed),
        worst_case=worst_case_summary(d, pu.bus_ids, ids["res"], xi_w) if searched else None,
        worst_searched=searched if robust else None,
        objective_is_milp_bound=sol.objective_is_milp_bound if robust else None,
        iterations=iteration_dicts(sol), run_time_s=sol.run_time_s, violations=violations,
        notes=notes, ac_check=ac,
        ess_discharge_mode={i: sol.z.reshape(d.hours, -1)[:, j].astype(int).tolist()
                            for j, i in enumerate(ids["ess"])},
        dg_commitment={i: sol.commitment.reshape(d.hours, -1)[:, j].astype(int).tolist()
                       for j, i in enumerate(ids["dg"])} if sol.commitment is not None else {},
        open_branches=branches_by_hour[0], open_branches_by_hour=branches_by_hour,
        ess_limits_mwh={i: {"e_max_mwh": float(d.ess_e[j]), "soc0_mwh": float(d.soc0[j])}
                        for j, i in enumerate(ids["ess"])}, ac_within_limits=within, base=base,
        switching_from_present=switching)


def _result_settings(doc: dict[str, Any], where: str | None = None) -> ScheduleSettings:
    """The :class:`ScheduleSettings` recorded in a schedule result; :class:`InputError` when
    they are not readable: not an object, or a field of the wrong type (``settings.hours``
    ``"three"``; :func:`_wrong_types`), named with the file ``where`` it was read from
    (before, a TypeError or ValueError deep in the check, exit 1)."""
    ids = () if where is None else (str(where),)
    recorded = doc.get("settings") or {}
    if not isinstance(recorded, Mapping):
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result", "settings must be an object, not "
            f"{type(recorded).__name__} {recorded!r:.60}", ids, "settings",
            "pass the JSON that 'feederopt schedule --json FILE' writes")])
    raw = dict(recorded)
    wrong = _wrong_types(ScheduleSettings(), raw)
    if wrong:
        raise InputError([Problem(
            ProblemKind.INVALID_VALUE, "result", f"settings.{name} must be {want}, not "
            f"{type(raw[name]).__name__} {raw[name]!r:.60}", ids, f"settings.{name}",
            "leave the settings as the schedule wrote them") for name, want in wrong.items()])
    try:
        raw["budget_kind"] = BudgetKind(raw.get("budget_kind", "temporal"))
        raw["soc_form"] = SocForm(raw.get("soc_form", "seed"))
        raw["aggregate"] = tuple(raw.get("aggregate", (0.95, 1.05)))
        raw["uncertain_buses"] = tuple(raw.get("uncertain_buses", ()))
        for f in ("fixed_open", "fixed_closed"):
            if f in raw:
                raw[f] = tuple(raw[f])
        return ScheduleSettings(**raw)
    except (TypeError, ValueError) as exc:
        raise InputError([Problem(ProblemKind.INVALID_VALUE, "result", "the result's settings "
                                  f"are not readable ({exc})", ids, "settings",
                                  "pass the JSON that 'feederopt schedule --json FILE' "
                                  "writes")]) from None


def has_budget_set(doc: dict[str, Any]) -> bool:
    """Does the schedule result ``doc`` record a budget set beyond the forecast (a load budget
    with gamma > 0, or a renewable budget)? Without one, every realisation is the forecast."""
    return _result_settings(doc).robust


def check_schedule_problems(doc: dict[str, Any], *, samples: Any,
                            path: str | None = None) -> list[Problem]:
    """The problems of :func:`check_schedule_result`'s options and of the result's record,
    before any work: ``samples`` >= 1 (realisations are drawn), a readable case and settings,
    and the fields the check reads of the shape the schedule writes
    (:func:`~feederopt.results.document.schedule_document_problems`: a result.json edited by
    hand); ``path`` names the file in the result's problems."""
    out: list[Problem] = []
    bad_samples = samples_problem(samples, example=100)
    if bad_samples is not None:
        out.append(bad_samples)
    shape = schedule_document_problems(doc, path, required=("settings", "open_lines_by_hour"))
    out += shape
    if any(p.field in ("settings", "inputs", "inputs.source") for p in shape):
        return out
    if not (doc.get("inputs") or {}).get("source"):
        out.append(Problem(ProblemKind.INVALID_VALUE, "result", "the result does not record "
                           "its case", () if path is None else (path,), "inputs.source"))
    try:
        st = _result_settings(doc, path)
    except InputError as exc:
        out += exc.problems
    else:  # a result made before fractional budgets were refused: its samples dropped them
        out += fractional_budget_problems(st, "result", "settings.")
    return out


def _checked_topology(d: ScheduleData, open_by_hour: Any, branch_ids: list[str]
                      ) -> np.ndarray:
    """The (H, m) branch states of a result's ``open_lines_by_hour``, refused as typed
    problems when an id names no branch of the network, the hours are not the schedule's, or
    an hour's closed branches are not a spanning tree (user test ut_sched3 #3: an edited
    result with a loop, every line closed or an unknown id was checked "100 % served")."""
    # a circuit of a merged double circuit (an edited result's L1) is its branch L1+L1b
    rows = [resolve_branch_ids(row, branch_ids) for row in (open_by_hour or [])]
    known = set(branch_ids)
    problems: list[Problem] = []
    unknown = sorted({b for row in rows for b in row} - known)
    if unknown:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "result", f"open_lines_by_hour names {len(unknown)} "
            "branch id(s) that the network does not have", tuple(unknown[:20]),
            "open_lines_by_hour", f"use the network's branch ids, e.g. {branch_ids[0]}"))
    if len(rows) != d.hours:
        problems.append(Problem(
            ProblemKind.INVALID_VALUE, "result", f"open_lines_by_hour has {len(rows)} hour(s), "
            f"the schedule {d.hours}", (), "open_lines_by_hour",
            "give one list of open lines per hour of the schedule"))
    if problems:
        raise InputError(problems)
    closed = np.array([[0.0 if b in set(row) else 1.0 for b in branch_ids] for row in rows])
    loops = [h for h in range(d.hours) if not is_radial(d, closed[h])]
    if loops:
        raise InputError([Problem(
            ProblemKind.NOT_RADIAL, "result", f"the open lines of hour(s) "
            f"{', '.join(str(h) for h in loops[:12])}{' ...' if len(loops) > 12 else ''} "
            "leave the closed branches no spanning "
            "tree (a loop, or buses cut off)", tuple(rows[loops[0]]), "open_lines_by_hour",
            "a schedule opens exactly one branch of every loop and cuts no bus off")])
    return closed


def _first_stage_ids(doc: Mapping[str, Any], dev: Devices, commit: bool,
                     path: str | None) -> None:
    """:class:`InputError` when the result's ``ess_discharge_mode`` (or, with the DG
    commitment, its ``dg_commitment``) does not name the storage (DG) units of the device
    tables read again: the check fixes each unit's recorded hours (before, an id left out or
    added by hand was a KeyError or a mode read for the wrong unit)."""
    problems = []
    wanted = [("ess_discharge_mode", dev.ids(DeviceKind.ESS), True),
              ("dg_commitment", dev.ids(DeviceKind.DG), commit)]
    for name, ids, used in wanted:
        given = doc.get(name) or {}
        # a result without modes (written before they were recorded) is checked with none
        if not used or (not given and name == "ess_discharge_mode"):
            continue
        if set(map(str, given)) != set(map(str, ids)):
            problems.append(Problem(
                ProblemKind.INVALID_VALUE, "result", f"{name} names the units "
                f"{', '.join(map(str, given)) or 'none'}, the device tables "
                f"{', '.join(map(str, ids)) or 'none'}",
                () if path is None else (path,), name,
                "leave the field as the schedule wrote it, for the device tables it read"))
    if problems:
        raise InputError(problems)


@option_names(TIME_LIMIT_S)
def check_schedule_result(doc: Mapping[str, Any] | str | Path, *, samples: int, seed: int = 0,
                          time_limit_s: float = 600.0, prior_problems: Sequence[Problem] = (),
                          notice: Callable[[str], None] | None = None,
                          progress: ProgressCallback | None = None,
                          path: str | None = None) -> dict[str, Any]:
    """``feederopt check`` of a schedule result (``doc``: the result's ``to_dict()`` or its
    JSON read back as a dict, or the path of its JSON file or result folder, read with
    :func:`feederopt.read_result`; anything else, or a result of another kind, is an
    :class:`InputError` naming ``doc``): rebuild the problem from the recorded inputs and
    settings, fix the recorded first stage (topology and storage modes)
    and report the share of ``samples`` realisations of the budget
    set served without slack (with ``dg_commitment`` the recorded DG commitment is fixed too),
    with the count served (``served``) and the check's verdict ``within_limits``
    (:func:`~feederopt.validation.schedule.sample_check_within_limits`: false when one
    realisation is not served, or when the result's own verdict is false,
    ``result_within_limits``: the result's ``within_limits``, its hourly AC check and its own
    ``--samples``, :func:`~feederopt.results.schedule.recorded_verdict`, with why in
    ``result_verdict_causes``; ``feederopt check`` then exits 4).

    A result without a budget set (:func:`has_budget_set` false: a deterministic schedule
    without ``--robust-budget``) has one realisation, the forecast: it is checked once, and
    the report says so (``"budget_set": false``, ``"samples": 1``) instead of drawing
    ``samples`` copies of the forecast; ``notice`` (if given) gets a note saying so before
    the work. Bad options raise :class:`InputError` before any work, together with
    ``prior_problems`` (those the caller found, e.g. the CLI's options for other results and
    its ``--json`` path). ``progress`` gets a :class:`~feederopt.solvers.status.SampleRecord`
    after each realisation.

    The network, profile and device files are read again from their recorded paths: a file
    whose SHA-256 differs from the one the result recorded (``inputs.sha256``), that is gone,
    or that the schedule did not read is a typed problem naming it (the check is refused); a
    result written before the hashes were recorded gets a warning (in ``notice`` and the
    report's ``notes``) that the files cannot be verified
    (:func:`~feederopt.io.digests.input_change_problems`)."""
    check_not_forked("feederopt.check_schedule_result")
    from feederopt.api import result_document

    if path is None and isinstance(doc, str | os.PathLike):
        path = str(result_json_path(doc))
    doc = result_document(doc, function="check_schedule_result", argument="doc",
                          kind="schedule")
    problems = [*prior_problems, *check_schedule_problems(doc, samples=samples, path=path),
                *seed_problems(seed)]
    # (an inputs or a path of another type is among the problems: not read here)
    recorded = doc.get("inputs")
    inputs: Mapping[str, Any] = recorded if isinstance(recorded, Mapping) else {}
    source, profiles, devices = (x if isinstance(x, str) else None for x in (
        inputs.get("source"), inputs.get("profiles"), inputs.get("devices")))
    # the files are read again: refused when they changed since the schedule was made (before,
    # user test ut34_schedule #3, the check ran against edited profiles: "0.0 % served")
    changed = input_change_problems(
        inputs.get("sha256"), [source, profiles, devices],
        made="the schedule", field="inputs.sha256", skip=PROFILE_FILES)
    problems += [p for p in changed if p.is_error]
    if problems:
        raise InputError(problems)
    notes = [str(p) for p in changed if not p.is_error]
    if notice is not None:
        for text in notes:
            notice(text)
    st = _result_settings(doc, path)
    if not st.robust and notice is not None:
        notice(f"the schedule of {source} has no budget set (gamma 0, or no load or renewable "
               "budget): its only realisation is the forecast, so the check is trivial and "
               f"the forecast is checked once, not {samples} times. For a meaningful check, "
               "schedule with --robust-budget GAMMA[,GAMMA_RES] (and --deterministic for the "
               "deterministic schedule in that set) and check that result.")
    net, dev, prof = schedule_inputs(source, inputs.get("profiles"), inputs.get("devices"),
                                     st.hours, ties=reread_tie_rule(inputs.get("ties"), source))
    d = build_schedule_data(net, dev, prof, st)
    from feederopt.network.perunit import to_per_unit

    pu_ids = [str(b) for b in to_per_unit(net, 1.0).branch_ids]
    closed = _checked_topology(d, doc["open_lines_by_hour"], pu_ids)
    _first_stage_ids(doc, dev, d.commit, path)
    modes = doc.get("ess_discharge_mode") or {}
    z = np.array([[modes[i][h] for i in dev.ids(DeviceKind.ESS)] for h in range(d.hours)],
                 float).ravel() \
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
    robust = st.robust
    xis = sample_budget_set(d, samples, seed) if robust else [nominal(d)]
    served = sum(served_verdicts(
        d, x, xis, progress=sample_progress(progress, "served without slack", len(xis))))
    share = 100.0 * served / max(len(xis), 1)
    sampling = sampling_description(d, seed) if robust else {
        "kind": "forecast_only",
        "description": "no budget set: the forecast, its only realisation, checked once"}
    # the result's own one verdict (its within_limits: its hourly AC check and its own
    # samples, recorded_verdict; a result written before smalls41 had the AC check's alone
    # as within_limits, read as such). Before (recheck_c D), only its AC check counted: a
    # result whose own samples were not all served was checked "within_limits: true", exit 0
    own = recorded_verdict(doc)
    ac, own_samples = recorded_checks(doc)
    return stamped("schedule_check", {
        "samples": len(xis), "seed": seed, "served_pct": share, "served": served,
        "case": source, "budget_set": robust, "sampling": sampling,
        # the check's verdict (exit code 4 when false): every realisation of this check
        # served and the result's own verdict not false
        "within_limits": sample_check_within_limits(served, len(xis), own),
        "result_within_limits": own,
        "result_verdict_causes": schedule_verdict_causes(ac, own_samples),
        "notes": notes})


def result_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, allow_nan=False, default=lambda v: None if
                      isinstance(v, float) and not math.isfinite(v) else str(v))
