"""Networked-microgrid partitioning as one call (``feederopt partition``): load a three-phase
feeder and its settings, build the problem (:mod:`feederopt.problems.partition`) and solve it by
Algorithm 1 of seed 001 or by the extensive form (:mod:`feederopt.algorithms.partition`).

    >>> from feederopt.api_partition import partition
    >>> partition("ieee37mod", uncertainty=0.1).served_load_kw
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feederopt.algorithms.base import (
    ProgressCallback,
    interrupted_label,
    report_phase,
    sample_progress,
)
from feederopt.algorithms.partition import (
    STOPPED_ALL_OFF,
    BranchCuts,
    DerCuts,
    PartitionResult,
    PartitionStopped,
    SampleChecks,
    VoltageShifts,
    branch_model_ids,
    feedback_stop_text,
    model_der_outputs,
    model_voltages,
    solve_extensive,
    solve_robust,
    within_voltage_stop,
)
from feederopt.algorithms.partition_costs import (
    cost_dark_blocks,
    cost_dark_note,
    short_dark_blocks,
    short_dark_note,
)
from feederopt.cases import load_three_phase
from feederopt.errors import (
    InputError,
    OutputNotWrittenError,
    Problem,
    ProblemKind,
    SolverError,
    option_ref,
    shown_list,
)
from feederopt.forking import check_not_forked
from feederopt.io.digests import input_change_problems, input_digests
from feederopt.io.frames import source_problems
from feederopt.io.writing import output_problems, result_json_path
from feederopt.network.id_lists import blank_entry_problems, id_list_problems
from feederopt.options import (
    TIME_LIMIT_S,
    VOLTAGE_LIMITS_PU,
    count_problems,
    crossed_limit_problems,
    id_list,
    loading_factor_note,
    loading_problems,
    option_names,
    ray_address_problems,
    seed_problems,
    shown_value,
    switch_problems,
    time_limit_problems,
    voltage_limit_problems,
    workers_problems,
)
from feederopt.problems.partition import (
    PartitionPlan,
    PartitionSettings,
    build_partition_data,
    canonical_loads,
    enumeration_problems,
    is_count_problem,
    read_settings,
    settings_from_file,
    settings_problems,
    voltage_feedback_setting,
    with_voltage_limits,
)
from feederopt.scalars import is_real, is_switch, is_whole
from feederopt.solvers import interrupt
from feederopt.validation.montecarlo import samples_problem
from feederopt.validation.partition import plan_within_limits

#: The voltage feedback's re-solves at most (:func:`_voltage_feedback`).
FEEDBACK_ROUNDS = 4

#: Equal-cost alternatives tried at most when OpenDSS does not converge at the plan
#: (:func:`_alternatives`), and the relative tolerance of "equal cost" (the cutting plane's).
ALTERNATIVES = 3
ALTERNATIVE_TOL = 1e-6


def default_settings_path(source: Any) -> Path | None:
    """The settings file of a built-in three-phase case, if it has one."""
    from feederopt.cases.threephase import OPENDSS_DIR, THREE_PHASE_CASES

    case = THREE_PHASE_CASES.get(source) if isinstance(source, str) else None
    return OPENDSS_DIR / case.settings if case is not None and case.settings else None


@option_names({**TIME_LIMIT_S, **VOLTAGE_LIMITS_PU})
@interrupt.handle_signals("the best plan so far, its bound and gap are")
def partition(source: Any, *, settings: str | Path | None = None,
              uncertainty: float | None = None,
              uncertain_loads: Sequence[str] | str | None = None,
              k_der: int | None = None, load_model: str | None = None,
              method: str = "cutting_plane", workers: int = 1,
              ray_address: str | None = None, time_limit_s: float = 600.0,
              samples: int = 0, ac_check: bool = True, seed: int = 0,
              voltage_feedback: bool | None = None,
              feedback_rounds: int = FEEDBACK_ROUNDS,
              v_min_pu: float | None = None, v_max_pu: float | None = None,
              thermal_limits: bool = True, max_loading_percent: float | None = None,
              out: str | Path | None = None, force: bool = False,
              prior_problems: Sequence[Problem] = (),
              progress: ProgressCallback | None = None) -> PartitionResult:
    """Partition ``source`` (a ``.dss`` path or a built-in case) into networked microgrids with
    the substation lost; options override the settings file. With ``samples > 0`` the
    post-analyses of the seed run on that many uniform in-box samples (``result.checks``):
    the plan in LinDist3Flow and, with ``ac_check``, in OpenDSS (IV-E), and the deterministic
    plan in LinDist3Flow (IV-D, when the uncertainty is positive). With ``out``, the result
    folder (result.json, microgrids.png, report.html; :mod:`feederopt.report.partition`) is
    written there, atomically; an existing one is replaced only with ``force``. A folder that
    cannot be written after the run (made read-only meanwhile) raises
    :class:`~feederopt.errors.OutputNotWrittenError`, whose ``result`` is the answer. Bad input
    raises :class:`InputError` with every problem found, before any solving, together with
    ``prior_problems`` (those the caller found, e.g. the CLI's ``--json`` path). ``progress``
    (:data:`~feederopt.algorithms.base.ProgressCallback`) gets the phases (the extensive
    MILP, or each master and round of slaves) and each sample of the post-analyses.

    ``voltage_feedback`` (default: the settings' ``partition.voltage_feedback``, else on)
    corrects the model's voltage limits by OpenDSS's power flow of the plan
    (:func:`_voltage_feedback`) in up to ``feedback_rounds`` re-solves; off, the plan is the
    pure LinDist3Flow one. ``time_limit_s`` is a deadline for the solves and the feedback
    together.

    ``v_min_pu`` / ``v_max_pu`` (the command line's ``--v-min``/``--v-max``) set every bus's
    voltage limits [p.u.], in the model and in every OpenDSS check of the plan (the voltage
    feedback, the samples, the base case); default: the settings file's ``bus``
    ``vm_lb``/``vm_ub`` where it gives them, else the network's (0.9-1.1 p.u. as read from
    OpenDSS). The option wins over the file
    (:func:`~feederopt.problems.partition.with_voltage_limits`); ``inputs`` records them for
    ``feederopt check``, and ``inputs.voltage_limits`` the limits used.

    ``max_loading_percent`` (the command line's ``--max-loading PCT``, default 100: the
    ratings as given) scales the lines' and transformer banks' current ratings, in the model
    (``|s| <= PCT/100 s_max`` per phase, LinDist3Flow's (16e)-(16f) of seed 001) and in every
    OpenDSS check of the plan (the voltage feedback's, the samples', the base case's: a
    loading above PCT % of the rating is an overload); ``thermal_limits=False``
    (``--no-thermal-limits``) drops them: the model holds no rating and the checks judge none.
    Both have the three-phase solve's meaning (:func:`~feederopt.api_threephase.
    solve_three_phase`, :func:`~feederopt.algorithms.threephase.scale_ratings`); ``inputs``
    records them for ``feederopt check``.

    The cutting plane's slaves run on ``workers`` local processes or, with ``ray_address``
    (``"auto"``, ``"local"`` or a cluster's address; the command line's ``--ray``), on Ray;
    ``result.execution`` records where (kind, the workers applied, their peak memory) and
    ``inputs`` the options as given (user test ut50_par #1).

    Ctrl-C or SIGTERM (in the main thread) stops the run as its time limit would, with status
    ``interrupted`` and no feedback rounds or post-analyses after it; stopped before any
    robustly feasible plan, the all-dark plan (every block de-energised), as at a time limit
    (:mod:`feederopt.solvers.interrupt`)."""
    check_not_forked("feederopt.partition")
    t_start = time.perf_counter()
    # an empty entry (["801", ""] or "801,,703") is a load left out: refused, not dropped
    problems = [*prior_problems, *blank_entry_problems("uncertain_loads", uncertain_loads)]
    uncertain_loads = None if uncertain_loads is None else list(id_list(uncertain_loads) or ())
    problems += option_problems(method=method, workers=workers, ray_address=ray_address,
                               time_limit_s=time_limit_s, samples=samples, ac_check=ac_check,
                               seed=seed, voltage_feedback=voltage_feedback, k_der=k_der)
    method = _method(method) or method  # "Extensive" is the extensive form
    problems += voltage_limit_problems(v_min_pu, v_max_pu) + loading_problems(
        max_loading_percent) + switch_problems(thermal_limits=thermal_limits)
    wrong = source_problems(settings, "settings", "the path of a settings file (JSON)",
                            frames=False)  # named by type (a bare TypeError before)
    if wrong:
        problems, settings = [*problems, *wrong], None
    if out is not None:
        problems += output_problems(out, force=force, folder=True, option="out", inputs=[
            x for x in (source, settings) if isinstance(x, (str, Path))],
            command="partition")
    problems += count_problems("feedback_rounds", feedback_rounds, example=FEEDBACK_ROUNDS)
    net, st, path, notes = _network_and_settings(source, settings, uncertainty,
                                                 uncertain_loads, k_der, problems,
                                                 load_model=load_model,
                                                 extensive=method == "extensive",
                                                 v_min_pu=v_min_pu, v_max_pu=v_max_pu)
    st = replace(st, loading_limit_percent=loading_limit(thermal_limits, max_loading_percent))
    # the feeder's and the settings' files as read: `feederopt check` reads them again and
    # refuses them when they changed since (io.digests; ut34_schedule #3, as for a schedule)
    digests = input_digests([x for x in (source, path) if isinstance(x, str | Path)])
    if voltage_feedback is None:
        voltage_feedback = voltage_feedback_setting(path)
        if voltage_feedback is None:  # the case's own, under a user's file
            voltage_feedback = voltage_feedback_setting(default_settings_path(source))
    voltage_feedback = True if voltage_feedback is None else bool(voltage_feedback)
    data = partition_data(net, st)
    case = str(net.meta.get("case") or net.name)
    deadline = t_start + time_limit_s

    def solve(d: Any, left: float) -> PartitionResult:
        if method == "extensive":
            report_phase(progress, "extensive form (one MILP)")
            return solve_extensive(d, case=case, time_limit_s=left)
        return solve_robust(d, case=case, workers=workers, ray_address=ray_address,
                            time_limit_s=left, progress=progress)

    res = solve(data, time_limit_s)
    plan_data = data
    if res.plan is not None and voltage_feedback and interrupt.requested():
        res.voltage_feedback = {"enabled": False, "rounds": [], "stopped": "interrupted"}
    elif res.plan is not None and voltage_feedback:
        if net.meta.get("source_path"):
            res, plan_data = _voltage_feedback(net, data, res, solve, deadline=deadline,
                                               rounds=feedback_rounds, progress=progress)
            res, plan_data = _alternatives(net, data, res, plan_data, solve,
                                           deadline=deadline, rounds=feedback_rounds,
                                           progress=progress)
            res.run_time_s = time.perf_counter() - t_start
        else:
            res.voltage_feedback = {"enabled": False, "rounds": [], "stopped":
                                    "the network was not read from an OpenDSS file"}
            notes.append("voltage feedback not run: the network was not read from an "
                         "OpenDSS file, so there is no AC power flow to correct the model by")
    elif res.plan is not None:
        res.voltage_feedback = {"enabled": False, "rounds": [], "stopped": "off"}
    if net.meta.get("source_path") and not interrupt.requested():
        # the user's feeder as operated today (the file's switch states) in
        # OpenDSS against the same limits: what the grid breaks before any partition
        from feederopt.api_threephase import base_case_of

        res.base = base_case_of(net, thermal_limits=bool(thermal_limits),
                                max_loading_percent=max_loading_percent)
    res.inputs = {"source": _where(source) if isinstance(source, str | Path) else None,
                  "settings": _where(path) if path is not None else None,
                  "uncertain_loads": list(st.uncertain_loads) if st.uncertain_loads else None,
                  "k_der": st.k_der, "load_model": st.load_model,
                  "v_min_pu": v_min_pu, "v_max_pu": v_max_pu,
                  "voltage_limits": voltage_limits_used(net, st, v_min_pu, v_max_pu),
                  "thermal_limits": bool(thermal_limits),
                  "max_loading_percent": (None if max_loading_percent is None
                                          else float(max_loading_percent)),
                  # what the report's command line repeats (user test ut49_part #3)
                  "voltage_feedback": voltage_feedback,
                  "time_limit_s": float(time_limit_s), "ac_check": bool(ac_check),
                  # the slaves' options as given (the report's command line repeats them;
                  # ``execution`` records what ran: ut50_par #1)
                  "workers": int(workers), "ray_address": ray_address,
                  "sha256": digests}
    res.notes.extend(notes)
    factor = loading_factor_note(max_loading_percent) if thermal_limits else None
    if factor:  # --max-loading 1.2 meant as 120 % (ut36_api #3), as the solve says
        res.notes.append(factor)  # what the settings file gives that the model does not apply
    if not bool(np.any(data.der_gf)):  # no microgrid can form: nothing is served
        res.notes.append(
            f"no grid-forming DER is defined ({len(data.der_ids)} DER(s), none grid-forming): "
            "no microgrid can be energised, so no load is served; name them in a settings "
            "file: --settings FILE.json with PowerModelsONM's "
            "{\"dss\": {\"Storage.st1\": {\"inverter\": \"grid_forming\"}}}")
    # a grid-forming DER of zero capacity (kW = 0, kVA = 0) is accepted by the model (a rating
    # of 0 bounds its output to 0: it can energise only a block with nothing to supply), but it
    # is most likely a rating left out of the file (user test ut32_part #3): name it
    # DERs that deliver less than their nameplate in the file's state (a PVSystem at its
    # irradiance, a storage unit at its reserve; io.opendss._ratings): dispatched at most at
    # that (user test ut36_tph #2: irradiance 0 dispatched at Pmpp, %stored=0 at 295 kW)
    derated = {d: why for d, why in (net.meta.get("der_derated") or {}).items()
               if d in data.der_ids}
    if derated:
        res.notes.append(
            "DER(s) that deliver less than their rating in the file's operating state, "
            "dispatched at most at that: " + "; ".join(f"{d}: {why}" for d, why in
                                                    derated.items())
            + " (the partition is a snapshot: a storage unit above its reserve may run at its "
            "kWrated, its stored energy limits nothing else; docs/partition-settings.md, "
            "\"DER limits\")")
    empty_gf = [d for d, gf, p in zip(data.der_ids, data.der_gf, data.der_p_max_kw,
                                       strict=True) if gf and p <= 0 and d not in derated]
    if empty_gf:
        res.notes.append(
            f"grid-forming DER(s) with zero capacity: {', '.join(empty_gf)} (active limit "
            "0 kW: kW / Pmpp / kWrated 0, or kVA 0): each can supply no power, so it serves "
            "no load in any microgrid it forms; give its kW and kVA in the .dss file, or do "
            "not mark it grid-forming")
    lost_kw = float(data.load_p_kw[np.isin(data.load_block, np.flatnonzero(data.lost))].sum())
    # the DERs in it are stranded too (ut36_tph #4: a 450 kW grid-forming unit unused, unnamed)
    stranded = [f"{d} ({'grid-forming, ' if gf else ''}{p:,.1f} kW)" for d, gf, p, b in zip(
        data.der_ids, data.der_gf, data.der_p_max_kw, data.der_block, strict=True)
        if data.lost[b] and p > 0]
    if lost_kw > 0 or stranded:  # the substation's block is down whatever the plan: say so
        lost = [str(b) for b in np.flatnonzero(data.lost)]
        ders = (f"; its DERs stay unused in every plan: {', '.join(stranded)}" if stranded
                else "")
        res.notes.append(
            f"block {', '.join(lost)} holds the lost substation and {lost_kw:,.1f} kW of load: "
            "no plan can serve it, and the objective leaves it out (its weight is 0, so its "
            f"load is no load-shed cost){ders}; only a switch (switch=y) between the "
            "substation and those loads and DERs would let a microgrid take them")
    # a switch the settings fix CLOSED at the lost substation's block is opened with every
    # switch of that block (user test ut51_part #2: opened silently); a built-in case's own
    # settings are its documented model, not a user's setting (ieee13mod's PowerModelsONM
    # file fixes its substation breaker cb_101, the switch the seed opens): not noted
    own = default_settings_path(source)
    case_closed = set(read_settings(own, net)[0].fixed_closed) if own is not None else set()
    at_lost = [sid for s, sid in enumerate(data.switch_ids)
               if sid in st.fixed_closed and sid not in case_closed
               and data.lost[data.switch_blocks[s]].any()]
    if at_lost:
        lost_blocks = [str(b) for b in np.flatnonzero(data.lost)]
        res.notes.append(
            f"settings not applied: switch {', '.join(at_lost)} state CLOSED (dispatchable "
            f"NO): {'they join' if len(at_lost) > 1 else 'it joins'} block "
            f"{', '.join(lost_blocks)}, the lost substation's, which no microgrid energises, "
            f"so every plan opens {'them' if len(at_lost) > 1 else 'it'} "
            "(docs/partition-settings.md, \"switch\")")
    if res.plan is not None and res.status == "optimal" and not interrupt.requested():
        # a block a grid-forming DER could carry alone, shed for the DERs' cost (ut34 #3)
        dark = cost_dark_blocks(plan_data, res.plan, deadline=deadline)
        res.notes.extend(cost_dark_note(d, plan_data) for d in dark)
        # a dark block that its grid-forming DER cannot carry: why (ut36_tph #3)
        res.notes.extend(short_dark_note(b, st.loading_limit_percent) for b in
                         short_dark_blocks(plan_data, res.plan, skip={d.block for d in dark}))
    res.status = interrupted_label(res.status)  # Ctrl-C: the incumbent, as at a time limit
    if samples and res.plan is not None and not interrupt.requested():
        res.checks = _post_analyses(net, st, data, res.plan, case=case, samples=samples,
                                    ac_check=ac_check, seed=seed, time_limit_s=time_limit_s,
                                    progress=progress, plan_data=plan_data)
    # one verdict for the JSON, the exit code and the report's badge
    res.within_limits = plan_within_limits(res.voltage_feedback, res.checks,
                                           trivial_plan=res.trivial_plan)
    res.network = net  # for feederopt.save, which draws the folder's figure on it
    if out is not None:
        from feederopt.report.partition import write_partition_folder

        try:
            write_partition_folder(out, net, res.to_dict(), force=force)
        except InputError as exc:  # the path became unwritable during the run
            raise OutputNotWrittenError(exc.problems, res) from None
    return res


def _stop_reason(deadline: float) -> str | None:
    """Why a loop of re-solves (the voltage feedback's rounds, the equal-cost alternatives)
    stops before its next solve: ``"interrupted"`` after a Ctrl-C or SIGTERM, ``"time limit"``
    once ``deadline`` (:func:`time.perf_counter`) has passed, else None."""
    if interrupt.requested():
        return "interrupted"
    if deadline - time.perf_counter() <= 0:
        return "time limit"
    return None


def _voltage_feedback(net: Any, data: Any, res: PartitionResult,
                      solve: Callable[[Any, float], PartitionResult], *, deadline: float,
                      rounds: int, progress: ProgressCallback | None = None
                      ) -> tuple[PartitionResult, Any]:
    """Correct the model's voltage limits and DER ratings by OpenDSS's power flow of the plan
    (the three-phase solve's voltage feedback, docs/threephase.md, applied to a partition
    plan; docs/partition-ac-check.md, "Voltage feedback" and "DER breaches start a round").

    LinDist3Flow is lossless: its voltages miss the drops of the losses, and a plan that
    lowers the voltage to shrink voltage-dependent loads holds its nodes at exactly ``v_min``
    in the model, below it in OpenDSS; likewise a grid-forming DER at its rating in the model
    delivers the losses on top in OpenDSS. After each plan, OpenDSS solves the plan's
    microgrids at the nominal load as the AC check does (:class:`~feederopt.validation.
    partition.AcIsland`: the plan's switch states, each grid-forming DER a source at the
    plan's voltage set-point, the followers' shares settled); when every energised node is
    within its limits (the check's tolerance) and no DER phase is beyond a limit the model
    can tighten, the plan is kept. Otherwise the per-node limits are tightened by
    :class:`~feederopt.algorithms.partition.VoltageShifts` from the offsets
    ``d_n = V_OpenDSS,n - V_LinDist3Flow,n``, the DER phases over their kVA rating or active
    limit by :class:`~feederopt.algorithms.partition.DerCuts`, and the problem is solved
    again, at most ``rounds`` times, within the ``deadline`` (``time.perf_counter()``); each
    round records why it ran (``ran_for``). The plan kept is the first within every limit;
    when none is (round cap, time, OpenDSS not converging, a DER breach the model cannot
    correct), the one nearest them (:func:`_round_rank`). Returns it (with
    ``voltage_feedback`` filled and a note) and the problem it was solved in."""
    from copy import deepcopy

    from feederopt.validation.partition import AcIsland, load_draw

    limits = {r["id"]: (r["v_min_pu"], r["v_max_pu"]) for r in net.buses.iter_rows(named=True)}
    shifts = VoltageShifts()
    cuts = DerCuts()
    # the lines' and transformers' ratings tightened where OpenDSS found them overloaded
    # (docs/partition-ac-check.md, "Branch overloads start a round")
    bcuts = BranchCuts()
    series = net.meta.get("series_elements") or {}
    rated = branch_model_ids(data, series)
    rows: list[dict[str, Any]] = []
    cur, cur_data = res, data
    cur_shifts: dict[str, dict[str, float]] = {"lower": {}, "upper": {}}
    cur_cuts: dict[str, dict[str, float]] = cuts.nonzero()
    cur_bcuts: dict[str, float] = bcuts.nonzero()
    best: tuple[tuple[Any, ...], int, PartitionResult, Any, dict[str, dict[str, float]],
                dict[str, dict[str, float]], dict[str, float]] | None = None
    stopped = "round cap"
    ran_for = ["the first plan"]
    # the DER breaches of each round that the model cannot correct (DerCuts.update)
    left_by_round: list[list[str]] = []
    fixable_by_round: list[list[str]] = []
    # and the branch overloads' (BranchCuts.update)
    bleft_by_round: list[list[str]] = []
    bfixable_by_round: list[list[str]] = []
    for k in range(rounds + 1):
        report_phase(progress, f"voltage feedback {k}: OpenDSS at the plan")
        assert cur.plan is not None
        if k == 0:
            first_round = (cur_data, cur.plan)
        t = time.perf_counter()
        island = AcIsland(net, cur_data, cur.plan)
        ac = island.solve(cur_data.nominal())
        # what the served loads draw in that power flow (read once here, not in every sample)
        drawn, below, above = (load_draw(island.live_loads) if ac.converged
                               else (math.nan, [], []))
        vm = model_voltages(cur_data, cur.plan)
        margin = min((min(v - limits[n.rsplit(".", 1)[0]][0],
                          limits[n.rsplit(".", 1)[0]][1] - v)
                      for n, v in ac.voltages_pu.items()), default=math.nan) \
            if ac.converged else -math.inf
        live = [n for n in ac.voltages_pu if n in vm]
        # the DER breaches the model can correct (their limits tightened for the next round,
        # in a copy kept only when there is one) and those it cannot
        trial = deepcopy(cuts)
        fixable: list[str] = []
        left: list[str] = []
        if ac.converged and ac.der_breach_records:
            pg, qg = model_der_outputs(cur_data, cur.plan)
            fixable, left = trial.update(ac.der_breach_records, data, pg, qg)
        left_by_round.append(left)
        fixable_by_round.append(fixable)
        btrial = deepcopy(bcuts)
        bfixable: list[str] = []
        bleft: list[str] = []
        if ac.converged and ac.branch_overload_records:
            bfixable, bleft = btrial.update(ac.branch_overload_records, rated)
        bleft_by_round.append(bleft)
        bfixable_by_round.append(bfixable)
        rows.append({
            "round": k, "status": cur.status, "objective": cur.objective,
            "generation_cost": cur.generation_cost, "load_shed_cost": cur.load_shed_cost,
            "energised_blocks": cur.energised_blocks,
            "closed_switches": list(cur.closed_switches),
            "served_load_kw": cur.served_load_kw,
            "grid_forming": {cur_data.der_ids[d]: v for d, v in island.v_set.items()},
            # why this round's plan was solved: the first plan, or what the previous round's
            # OpenDSS flow broke that the model was corrected for
            "ran_for": list(ran_for),
            "largest_shift_pu": shifts.largest_pu,
            # the largest tightening of a DER phase's kVA rating or active limit it was
            # solved with [kVA or kW] (DerCuts)
            "largest_der_cut": cuts.largest,
            # and of a line's or transformer's rating [% of the rating] (BranchCuts)
            "largest_branch_cut": bcuts.largest,
            "model_v_min_pu": min((vm[n] for n in live), default=math.nan),
            "model_v_max_pu": max((vm[n] for n in live), default=math.nan),
            "opendss_converged": ac.converged,
            # no energised node (every block off): no range (before: inf and 0.0 p.u.)
            "opendss_v_min_pu": ac.low_pu if ac.converged and ac.voltages_pu else math.nan,
            "opendss_v_max_pu": ac.high_pu if ac.converged and ac.voltages_pu else math.nan,
            "within_voltage_limits": bool(ac.converged and ac.within_voltage_limits),
            # the same flow's DER phases outside their bands or over their kVA ratings (the
            # validity verdict names them: validation.partition.validity_text)
            "der_breaches": list(ac.der_breaches),
            # and those of them that the model cannot correct, with why (DerCuts.update)
            "der_breaches_uncorrectable": list(left),
            # and its lines and transformers over their current ratings (ut47_part #1)
            "branch_overloads": list(ac.branch_overloads),
            # and those of them that the model cannot correct, with why (BranchCuts.update)
            "branch_overloads_uncorrectable": list(bleft),
            # each DER phase's output in that flow [kW, kvar] (a follower's settled share,
            # a grid-forming source's what OpenDSS asked of it), by "Generator.g1.a"
            "opendss_der_kw": dict(ac.der_phase_kw),
            "opendss_der_kvar": dict(ac.der_phase_kvar),
            "opendss_load_kw": drawn,
            "opendss_loads_below_vminpu": below,
            "opendss_loads_above_vmaxpu": above,
            "solve_time_s": cur.run_time_s, "opendss_time_s": time.perf_counter() - t})
        all_off = bool(k and ac.converged and not ac.voltages_pu)
        rank = _round_rank(ac, margin)
        if not all_off and (best is None or rank > best[0]):
            best = (rank, k, cur, cur_data, cur_shifts, cur_cuts, cur_bcuts)
        if all_off:
            # the re-solve de-energised every block: "within" the limits only because no node
            # is energised; further tightening cannot bring a plan back, and the round kept
            # is the one nearest the limits before it (``best``)
            stopped = STOPPED_ALL_OFF
            break
        volt_ok = ac.converged and ac.within_voltage_limits
        if volt_ok and not fixable and not bfixable:
            # the voltages end the loop when no DER breach or branch overload is left that
            # the model can correct; what the same flow still breaks is named, not called
            # "within limits" (ut51_part #3)
            stopped = within_voltage_stop(ac.der_breaches, ac.branch_overloads,
                                          [*left, *bleft])
            break
        if not ac.converged:
            stopped = "OpenDSS did not converge"
            break
        if k == rounds:
            break
        reason = _stop_reason(deadline)
        if reason is not None:
            stopped = reason
            break
        left_s = deadline - time.perf_counter()
        ran_for = []
        if not volt_ok:
            shifts.update(ac.voltages_pu, vm, limits)
            ran_for.append(f"voltages {ac.low_pu:.4f}-{ac.high_pu:.4f} p.u. outside the limits")
        if fixable:
            cuts = trial
            ran_for += fixable
        if bfixable:
            bcuts = btrial
            ran_for += bfixable
        nxt_data = bcuts.apply(cuts.apply(shifts.apply(data)), series)
        nxt_shifts, nxt_cuts, nxt_bcuts = shifts.nonzero(), cuts.nonzero(), bcuts.nonzero()
        report_phase(progress, f"voltage feedback {k + 1}: solve with the "
                     + " and ".join(["shifted limits"] * (not volt_ok)
                                    + ["tightened DER ratings"] * bool(fixable)
                                    + ["tightened branch ratings"] * bool(bfixable)))
        try:
            nxt = solve(nxt_data, left_s)
        except PartitionStopped:
            stopped = "time limit"
            break
        except interrupt.Interrupted:  # Ctrl-C in the re-solve: the rounds so far
            stopped = "interrupted"
            break
        if nxt.plan is None:
            stopped = "no plan"
            break
        if nxt.trivial_plan:  # the re-solve stopped before any plan: its all-dark fallback
            stopped = "time limit"
            break
        cur, cur_data, cur_shifts, cur_cuts = nxt, nxt_data, nxt_shifts, nxt_cuts
        cur_bcuts = nxt_bcuts
        if cur.status == "time_limit":
            rows[-1]["next_stopped_at_time_limit"] = True
    assert best is not None
    _, kept_k, kept, kept_data, kept_shifts, kept_cuts, kept_bcuts = best
    within = rows[kept_k]["within_voltage_limits"]
    kept.voltage_feedback = {"enabled": True, "rounds": rows, "kept_round": kept_k,
                             "re_solves": len(rows) - 1, "stopped": stopped,
                             "within_voltage_limits": within, "limit_shifts_pu": kept_shifts,
                             "der_cuts": kept_cuts, "branch_cuts": kept_bcuts}
    stop_text = feedback_stop_text(kept.voltage_feedback)
    if rows[kept_k]["der_breaches"]:
        # why the kept plan's DER breaches stand (the validity row says it:
        # validation.partition.validity_text)
        kept.voltage_feedback["der_breaches_why"] = _why_kept(
            left_by_round[kept_k], bool(fixable_by_round[kept_k]), stop_text)
    if rows[kept_k]["branch_overloads"]:
        # likewise for its lines and transformers over their ratings (BranchCuts)
        kept.voltage_feedback["branch_overloads_why"] = _why_kept(
            bleft_by_round[kept_k], bool(bfixable_by_round[kept_k]), stop_text)
    kept.served_load_opendss_kw = rows[kept_k]["opendss_load_kw"]
    kept.loads_below_vminpu = rows[kept_k]["opendss_loads_below_vminpu"]
    kept.loads_above_vmaxpu = rows[kept_k]["opendss_loads_above_vmaxpu"]
    for side, limit, names in (("below", "Vminpu", kept.loads_below_vminpu),
                               ("above", "Vmaxpu", kept.loads_above_vmaxpu)):
        if names:  # OpenDSS's Load object leaves its model there (docs/partition-ac-check.md)
            kept.notes.append(
                f"OpenDSS's check at the nominal load: {len(names)} load(s) {side} their "
                f"{limit} ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}), "
                f"which OpenDSS draws as constant impedance whatever their model, so it "
                f"serves {kept.served_load_opendss_kw:,.1f} kW where the model serves "
                f"{kept.served_load_at_plan_kw:,.1f} kW at the plan's voltages")
    if len(rows) == 1 and within:  # no re-solve: the validity row gives the first plan's
        return kept, kept_data
    first = rows[0]
    first_data, first_plan = first_round
    first_volt_ok = first["within_voltage_limits"]
    kept_row = rows[kept_k]
    tightened = " and ".join(
        [f"the model's voltage limits tightened by up to {rows[-1]['largest_shift_pu']:.4f} "
         "p.u."] * (rows[-1]["largest_shift_pu"] > 0)
        + [f"DER ratings tightened by up to {rows[-1]['largest_der_cut']:.2f} kVA/kW"]
        * (rows[-1]["largest_der_cut"] > 0)
        + [f"line/transformer ratings tightened by up to {rows[-1]['largest_branch_cut']:.2f} %"]
        * (rows[-1]["largest_branch_cut"] > 0)) or "the model corrected"
    clean = within and not (kept_row["der_breaches"] or kept_row["branch_overloads"])
    kept.notes.append(
        "voltage feedback: the LinDist3Flow plan "
        f"({first['objective']:,.2f} $) has OpenDSS "
        + ((f"voltages {first['opendss_v_min_pu']:.4f}-{first['opendss_v_max_pu']:.4f} p.u. at "
            "the nominal load, "
            + ("outside the limits; " if not first_volt_ok else
               # a DER breach started the rounds (docs/partition-ac-check.md)
               "within the limits, but "
               + shown_list([*first["der_breaches"], *first["branch_overloads"]], 2,
                            sep="; ") + "; "))
           if first["opendss_converged"] else
           # user test ut_3ph #2: "voltages nan-nan p.u. ... outside the limits"
           "no power flow: OpenDSS did not converge at it ("
           + _non_convergence_causes(net, first_data, first_plan)
           + "), so its voltages are unknown; ")
        + (f"after {len(rows) - 1} re-solve(s) with {tightened}, the plan kept (round "
           f"{kept_k}, {kept.objective:,.2f} $, limits tightened by up to "
           f"{kept_row['largest_shift_pu']:.4f} p.u."
           + (f", DER ratings by up to {kept_row['largest_der_cut']:.2f} kVA/kW"
              if kept_row["largest_der_cut"] > 0 else "")
           + (f", line/transformer ratings by up to {kept_row['largest_branch_cut']:.2f} %"
              if kept_row["largest_branch_cut"] > 0 else "")
           + ") has "
           + (f"{kept_row['opendss_v_min_pu']:.4f}-{kept_row['opendss_v_max_pu']:.4f} "
              "p.u." if kept_row["opendss_converged"] else "no OpenDSS power flow either")
           + ((", within the limits" if clean
               else ", within the voltage limits, not the ratings (named under validity)")
              if within else
              f", still outside them ({feedback_stop_text(kept.voltage_feedback)})")
           if kept_k else f"{len(rows) - 1} re-solve(s) and none came nearer the limits "
           f"({feedback_stop_text(kept.voltage_feedback)})")
        + "; --no-voltage-feedback gives the pure LinDist3Flow plan")
    return kept, kept_data


def _round_rank(ac: Any, margin: float) -> tuple[Any, ...]:
    """How near a round's OpenDSS flow ``ac`` (:class:`~feederopt.validation.partition.
    AcSample`) comes to the limits, for the feedback's choice of the plan kept (the larger
    the nearer): a flow within every limit first; then one within the voltage limits, the
    smaller its DER phases' total excess over their limits [kW, kVA] the nearer; then by the
    voltage margin ``margin`` [p.u.] (the least distance of an energised node inside its
    limits, negative outside; ``-inf`` when OpenDSS did not converge), as before the DER
    rounds."""
    volt_ok = bool(ac.converged and ac.within_voltage_limits)
    clean = volt_ok and not ac.der_breaches and not ac.branch_overloads
    excess = sum(abs(float(r["value"]) - float(r["rating"]))
                 for r in getattr(ac, "der_breach_records", []))
    return (clean, volt_ok, -excess if volt_ok else margin)


def _alternatives(net: Any, data: Any, res: PartitionResult, plan_data: Any,
                  solve: Callable[[Any, float], PartitionResult], *, deadline: float,
                  rounds: int, progress: ProgressCallback | None = None
                  ) -> tuple[PartitionResult, Any]:
    """When OpenDSS does not converge at the plan the voltage feedback kept (at no round),
    try up to :data:`ALTERNATIVES` other plans of equal cost (within
    :data:`ALTERNATIVE_TOL`, relative, of the first plan's objective) before the run ends
    with exit code 4 (user test ut47_part, follow-up #2: Iowa 240's tie between closing
    cb_204/cb_303 and another switch set). Each is the optimum with a no-good cut on every
    plan tried so far (:func:`_no_good`, ``PartitionData.no_goods``), solved
    and checked as the first (:func:`_voltage_feedback`) within the run's ``deadline``. The
    first whose kept round OpenDSS solves is the answer, with a note naming the plans tried;
    else the first plan stays, with a note. ``voltage_feedback.alternatives`` lists every
    plan tried, the first (``first`` true, ``opendss_converged`` false) included. A dearer
    next plan, none, or the time limit ends the tries."""
    fb = res.voltage_feedback or {}
    if not fb.get("enabled") or res.plan is None or fb["rounds"][fb["kept_round"]][
            "opendss_converged"]:
        return res, plan_data
    cap = res.objective + ALTERNATIVE_TOL * (1 + abs(res.objective))
    # every plan tried, the first (at which OpenDSS did not converge) included: before (user
    # test ut49_part #5) the list began with the first alternative
    tried: list[dict[str, Any]] = [{
        "first": True, "objective": res.objective,
        "closed_switches": list(res.closed_switches),
        "grid_forming": [d for d, g in zip(data.der_ids, res.plan.grid_forming, strict=True)
                         if g],
        "opendss_converged": False}]
    no_goods = list(data.no_goods)
    cur = res
    stopped = f"{ALTERNATIVES} alternative(s) tried"
    for i in range(ALTERNATIVES):
        reason = _stop_reason(deadline)
        if reason is not None:
            stopped = reason
            break
        left = deadline - time.perf_counter()
        assert cur.plan is not None
        no_goods.append(_no_good(data, cur.plan))
        alt_data = replace(data, no_goods=tuple(no_goods))
        report_phase(progress, f"alternative {i + 1}: an equal-cost plan OpenDSS may solve")
        try:
            alt = solve(alt_data, left)
        except interrupt.Interrupted:
            stopped = "interrupted"
            break
        except SolverError:  # infeasible: every plan excluded
            stopped = "no other plan"
            break
        if alt.plan is None or alt.trivial_plan:
            stopped = "time limit"
            break
        if alt.objective > cap:
            stopped = f"the next plan costs more ({alt.objective:,.2f} $)"
            break
        alt, alt_pd = _voltage_feedback(net, alt_data, alt, solve, deadline=deadline,
                                        rounds=rounds, progress=progress)
        if alt.plan is None:
            stopped = "no plan"
            break
        afb = alt.voltage_feedback or {}
        ok = bool(afb.get("rounds")) and afb["rounds"][afb["kept_round"]]["opendss_converged"]
        tried.append({"first": False, "objective": alt.objective,
                      "closed_switches": list(alt.closed_switches),
                      "grid_forming": [d for d, g in zip(alt_data.der_ids, alt.plan.grid_forming,
                                                         strict=True) if g],
                      "opendss_converged": ok})
        if ok:
            # the cuts make the re-solve a restriction: its bound is not the problem's; the
            # first plan's is (and its status, when that was not proven)
            lb = min(res.lower_bound, alt.objective)  # nan stays nan
            alt.lower_bound = lb
            alt.gap = ((alt.objective - lb) / max(abs(alt.objective), 1e-9)
                       if math.isfinite(lb) else math.nan)
            if res.status != "optimal":
                alt.status = res.status
            afb["alternatives"] = tried
            afb["alternatives_stopped"] = "converged"
            gf = [d for d, g in zip(data.der_ids, res.plan.grid_forming, strict=True) if g]
            alt.notes.append(
                f"OpenDSS did not converge at the first optimal plan ({res.objective:,.2f} $, "
                f"closing {', '.join(res.closed_switches) or 'no switch'}, grid-forming "
                f"{', '.join(gf) or 'none'}; "
                + _non_convergence_causes(net, data, res.plan)
                + "); this plan is an equal-cost alternative (a no-good cut on each of the "
                f"{len(no_goods)} plan(s) tried: one of its closed ties open, else another "
                "block or switch state; docs/partition-tiebreak.md, \"OpenDSS does not "
                "converge\"), and OpenDSS converges at it")
            return alt, alt_pd
        cur = alt
    fb["alternatives"] = tried
    fb["alternatives_stopped"] = stopped
    res.notes.append(
        f"OpenDSS did not converge at the plan; {len(tried) - 1} equal-cost alternative(s) "
        "tried (no-good cuts: a closed tie of each plan tried open, else another block or "
        "switch state; docs/partition-tiebreak.md), "
        + ("; ".join(f"closing {', '.join(t['closed_switches']) or 'no switch'}: "
                     + ("converged" if t["opendss_converged"] else "did not converge")
                     for t in tried[1:]) + "; " if tried[1:] else "")
        + f"stopped: {stopped}")
    return res, plan_data


def _no_good(data: Any, plan: PartitionPlan) -> tuple[np.ndarray, np.ndarray]:
    """The no-good cut of ``plan`` for :func:`_alternatives` (``PartitionData.no_goods``):
    when it closes normally open switches (ties, :func:`closed_ties`), one of them open
    (the non-convergence note's advice, a stronger cut: a plan that only changes a block
    elsewhere and keeps the ties closed is excluded too); else its block and switch states."""
    ties = set(closed_ties(data, plan))
    if ties:
        zs = np.array([1.0 if sid in ties else np.nan for sid in data.switch_ids])
        return np.full(data.n_blocks, np.nan), zs
    return plan.energised.astype(float), plan.closed.astype(float)


def delta_island_buses(net: Any, data: Any, plan: PartitionPlan) -> list[str]:
    """The energised buses of ``plan`` that a delta winding of an in-service transformer
    connects: three-wire buses, which take no current to ground."""
    tr = net.transformers.filter(pl.col("in_service"))
    delta = {str(b).lower() for side in ("from", "to")
             for b in tr.filter(pl.col(f"conn_{side}") == "delta")[f"{side}_bus"].to_list()}
    on = [b for k, buses in enumerate(data.block_buses) if plan.energised[k] for b in buses]
    return sorted({b for b in on if str(b).lower() in delta})


def _non_convergence_causes(net: Any, data: Any, plan: PartitionPlan) -> str:
    """Possible causes of OpenDSS's non-convergence at ``plan``, named as possible: the
    lossless LinDist3Flow model (Gan & Low's linearisation, its ``w_j = w_i - 2 Re(...)``
    without the losses' term) serves what no AC power flow carries, typically at a voltage
    limit across long lines; and, only when the island has such a bus
    (:func:`delta_island_buses`), the check's phase-to-ground injection of each
    grid-following DER phase, which a three-wire bus behind a delta winding cannot take
    unequally. Before (user test ut45b_part #5) the delta cause was given for every island,
    also one without any transformer."""
    out = ("possible causes: the lossless LinDist3Flow plan may carry power that no AC power "
           "flow can, e.g. with voltages at the model's limits over long lines")
    delta = delta_island_buses(net, data, plan)
    if delta:
        out += ("; the check injects each grid-following DER phase by phase to ground, which "
                "a three-wire bus behind a delta winding (here "
                + ", ".join(delta[:5]) + (", ..." if len(delta) > 5 else "")
                + ") cannot take unequally")
    ties = closed_ties(data, plan)
    if ties:
        out += ("; the plan closes the normally open switch(es) " + ", ".join(ties)
                + ", and a plan of (near) equal cost may leave them open: hold one open in the "
                "settings (switch: {\"" + ties[0] + "\": {\"state\": \"OPEN\", "
                "\"dispatchable\": \"NO\"}}) and solve again")
    return out


def closed_ties(data: Any, plan: PartitionPlan) -> list[str]:
    """The normally open switches (ties) that ``plan`` closes."""
    pu = data.pu
    return [sid for s, sid in enumerate(data.switch_ids)
            if plan.closed[s] and pu.edges[int(data.switch_edge[s])].normally_open]


def loading_limit(thermal_limits: bool, max_loading_percent: float | None) -> float | None:
    """The loading limit [% of each rating] that the partition model holds and its OpenDSS
    checks judge (:attr:`~feederopt.formulations.partition.PartitionSettings.
    loading_limit_percent`): ``max_loading_percent`` (default 100, the ratings as given),
    None with ``thermal_limits=False`` (no rating held or judged)."""
    if not thermal_limits:
        return None
    return 100.0 if max_loading_percent is None else float(max_loading_percent)


def partition_data(net: Any, st: PartitionSettings) -> Any:
    """The partitioning problem of ``net`` with the settings ``st``
    (:func:`~feederopt.problems.partition.build_partition_data`), its lines' and transformer
    banks' ratings held at ``st.loading_limit_percent`` % of themselves, or dropped when it is
    None (:func:`~feederopt.algorithms.threephase.scale_ratings`: ``--max-loading``,
    ``--no-thermal-limits``, as for the three-phase solve)."""
    from feederopt.algorithms.threephase import scale_ratings

    data = build_partition_data(net, st)
    limit = st.loading_limit_percent
    if limit != 100.0:
        scale_ratings(data.pu, thermal_limits=limit is not None, max_loading_percent=limit)
    return data


def _bad_option(name: str, message: str, hint: str = "") -> Problem:
    return Problem(ProblemKind.INVALID_VALUE, "options", message, field=name, hint=hint)


def option_problems(*, method: str = "cutting_plane", workers: Any = 1,
                    ray_address: Any = None, time_limit_s: Any = 600.0,
                    samples: Any = 0, ac_check: Any = True, seed: Any = 0,
                    voltage_feedback: Any = None, k_der: Any = None) -> list[Problem]:
    """Every problem of :func:`partition`'s run options (not of its case or settings), each
    naming its option as the caller spells it (:func:`~feederopt.errors.option_ref`): an
    option either acts or is refused here, before any work. The switches, counts, seed and
    Ray address by the one rule of every entry point (:func:`~feederopt.options.
    switch_problems`, :func:`~feederopt.options.count_problems`,
    :func:`~feederopt.options.seed_problems`, :func:`~feederopt.options.ray_address_problems`)."""
    problems: list[Problem] = []
    if _method(method) is None:
        problems.append(_bad_option(
            "method", f"unknown method {shown_value(method)}",
            f"use one of {option_ref('method', repr('cutting_plane'))} (the default) or "
            f"{option_ref('method', repr('extensive'))}"))
    elif _method(method) == "extensive" and (workers != 1 or ray_address is not None):
        problems.append(_bad_option(
            "workers" if workers != 1 else "ray_address",
            f"{option_ref('workers')} and {option_ref('ray_address')} act on the cutting "
            "plane's slaves only, not on the extensive form (one MILP)",
            f"leave {option_ref('workers')} and {option_ref('ray_address')} out with "
            f"{option_ref('method', repr('extensive'), cli='--extensive')}"))
    problems += workers_problems(workers)
    problems += ray_address_problems(ray_address)
    problems += time_limit_problems(time_limit_s)
    problems += switch_problems(ac_check=ac_check, voltage_feedback=voltage_feedback)
    problems += seed_problems(seed)
    if k_der is not None:
        # at least one grid-forming DER (settings_problems' rule for the merged settings)
        problems += count_problems("k_der", k_der, least=1, example=2)
    bad_samples = count_problems("samples", samples, example=1000,
                                 note=", or 0 for no post-analyses")
    problems += bad_samples
    if not bad_samples and ac_check is False and samples == 0:
        problems.append(_bad_option(
            "ac_check", f"{option_ref('ac_check', False)} applies to the post-analyses of "
            f"{option_ref('samples')} only",
            f"leave {option_ref('ac_check', False)} out, or add {option_ref('samples', 'N')}"))
    return problems


#: The partition's methods (``method=``; case-insensitive, as the balanced solve's).
PARTITION_METHODS = ("cutting_plane", "extensive")


def _method(method: Any) -> str | None:
    """``method`` as one of :data:`PARTITION_METHODS` (any case, surrounding blanks
    dropped), None when it is none of them."""
    if not isinstance(method, str):
        return None
    name = method.strip().lower()
    return name if name in PARTITION_METHODS else None


def _network_and_settings(source: Any, settings: str | Path | None, uncertainty: float | None,
                          uncertain_loads: list[str] | None, k_der: int | None,
                          problems: list[Problem], load_model: str | None = None, *,
                          extensive: bool = False, v_min_pu: float | None = None,
                          v_max_pu: float | None = None
                          ) -> tuple[Any, PartitionSettings, Path | None, list[str]]:
    """The three-phase network with the partition's voltage limits in its buses
    (:func:`~feederopt.problems.partition.with_voltage_limits`: ``v_min_pu``/``v_max_pu``
    over the settings file's bus limits over the network's), its settings (the options
    overriding the file's) and the notes of what the settings file gives that the model does
    not apply
    (:func:`~feederopt.problems.partition.read_settings`); an :class:`InputError` with the
    ``problems`` found before and every problem of these, all at once (with ``extensive``,
    also too many uncertain loads for the extensive form)."""
    # OpenDSS names are case-insensitive: d1 and D1 are one load
    problems = [*problems, *id_list_problems(
        option_ref("uncertain_loads"),
        None if uncertain_loads is None else list(uncertain_loads), "load",
        field="uncertain_loads",
        example="e.g. 801,703, or leave it out for the settings' (else every load)",
        fold=str.casefold)]
    try:
        # islands run far from the file's operating point: its loads at their model and kV
        net = load_three_phase(source, purpose="partition").nameplate_band_loads()
    except InputError as exc:
        raise InputError([*problems, *_single_phase_problems(source, exc.problems)]) from None
    own = default_settings_path(source)
    path = Path(settings) if settings is not None else own
    try:
        base, notes = read_settings(own, net) if own is not None and path != own else (
            PartitionSettings(), [])
        st, more = read_settings(path, net, base) if path is not None else (base, [])
    except InputError as exc:
        raise InputError([*problems, *exc.problems]) from None
    notes = list(dict.fromkeys([*notes, *more]))
    if own is not None and path != own:
        # a user's file over a built-in case's settings: field by field (user test ut_part
        # #1: a file giving only k_der replaced the case's costs, grid-forming DERs, uncertain
        # loads and fixed switch, and the objective changed without a word)
        notes.append(f"the settings file is applied over {source}'s own settings "
                     f"({own.name}): what it does not give stays the case's")
    changes: dict[str, Any] = {}
    if uncertainty is not None:
        changes["uncertainty"] = uncertainty
    if uncertain_loads is not None:
        changes["uncertain_loads"] = canonical_loads(uncertain_loads, net)
    if k_der is not None and is_whole(k_der) and k_der >= 1:  # else refused by option_problems
        changes["k_der"] = k_der
    if load_model is not None:
        changes["load_model"] = load_model
    st = replace(st, **changes)
    if uncertain_loads and st.uncertainty == 0:  # the option would do nothing
        problems = [*problems, _bad_option(
            "uncertain_loads", "--uncertain-loads names the loads that vary in the uncertainty "
            "box, but the uncertainty is 0 (every load at its nominal): the option would do "
            "nothing", "give the box too, e.g. --uncertainty 0.1, or the settings' "
            "partition.uncertainty")]
    problems = [*problems, *_option_problems(
        [*settings_problems(st, net), *enumeration_problems(st, net, extensive=extensive)],
        set(changes))]
    # one option alone against the other limit of a bus (the file's or the network's):
    # --v-min 1.12 under a v_max of 1.1
    problems += crossed_limit_problems(with_voltage_limits(net, st).buses, v_min_pu, v_max_pu)
    if problems:
        raise InputError(problems)
    return with_voltage_limits(net, st, v_min_pu, v_max_pu), st, path, notes


def voltage_limits_used(net: Any, st: PartitionSettings, v_min_pu: float | None,
                        v_max_pu: float | None) -> dict[str, Any]:
    """The voltage limits of ``net``'s buses (the partition's,
    :func:`~feederopt.problems.partition.with_voltage_limits` applied) for the result's
    ``inputs.voltage_limits``: ``v_min_pu`` / ``v_max_pu`` one number when every bus has the
    same, else the lowest and highest (``{"min": , "max": }``), and where each comes from
    (``from``: ``options``, ``settings`` (some bus's from the settings file, the others the
    network's) or ``network``)."""
    out: dict[str, Any] = {}
    for k, (col, option) in enumerate((("v_min_pu", v_min_pu), ("v_max_pu", v_max_pu))):
        vals = net.buses[col].unique().sort().to_list()
        out[col] = float(vals[0]) if len(vals) == 1 else {"min": float(vals[0]),
                                                          "max": float(vals[-1])}
        out[col.replace("_pu", "_from")] = (
            "options" if option is not None else "settings" if any(
                v[k] is not None for v in st.bus_v_limits_pu.values()) else "network")
    return out


def _option_problems(problems: list[Problem], given: set[str]) -> list[Problem]:
    """``problems`` of the merged settings, those of a value the caller gave as an option
    (``given``: the keywords of :func:`partition` that override the file) located at the
    option, ``options.uncertainty``, not the settings file's ``settings.partition.uncertainty``
    nor ``settings [L9].uncertain_loads`` (user test ut45b_part #7); the count of uncertain
    loads (:func:`~feederopt.problems.partition.is_count_problem`) falls to
    ``uncertain_loads`` when the option gives the box or the loads."""
    out = []
    for p in problems:
        name = (p.field or "").removeprefix("partition.")
        count = is_count_problem(p)
        if p.component != "settings" or not (
                name in given or (count and given & {"uncertainty", "uncertain_loads"})):
            out.append(p)
            continue
        message, hint = p.unspelled
        out.append(Problem(p.kind, "options", message, () if count else p.ids, name, hint,
                           p.severity))
    return out


def _single_phase_problems(source: Any, problems: Any) -> list[Problem]:
    """The problems of reading ``source`` as a three-phase feeder; when it is a single-phase
    network (a built-in case, a SimBench grid, or a MATPOWER/pandapower file or a table
    folder), one problem saying that partition needs a three-phase one instead."""
    from feederopt.cases.registry import has_case
    from feederopt.cases.simbench import is_simbench_name
    from feederopt.io import looks_like_path

    if not isinstance(source, str | Path):
        return list(problems)
    text = str(source)
    named = isinstance(source, str) and not looks_like_path(text) and (
        has_case(text) or is_simbench_name(text))
    p = Path(text)
    single_file = p.exists() and (p.is_dir() or p.suffix.lower() in (".m", ".json"))
    from feederopt.cases.threephase import THREE_PHASE_CASES

    if not (named or single_file):
        if isinstance(source, str) and not looks_like_path(text) and not p.exists():
            return [Problem(ProblemKind.UNKNOWN_CASE, "case", f"{text!r} is neither a "
                            "three-phase case nor an existing OpenDSS file", (text,),
                            hint="the three-phase cases: " + ", ".join(THREE_PHASE_CASES))]
        return list(problems)
    what = "case" if named and not p.exists() else "network"
    return [Problem(
        ProblemKind.UNKNOWN_CASE if named else ProblemKind.UNKNOWN_FILE_TYPE, "case",
        f"partition needs a three-phase (OpenDSS) feeder; {text!r} is a single-phase {what}",
        (text,),
        hint="give an OpenDSS .dss file or a three-phase case ("
        + ", ".join(c for c in THREE_PHASE_CASES if c.endswith("mod")) + " bring partition "
        "settings); single-phase feeders are solved by 'feederopt solve'")]


def _where(source: str | Path) -> str:
    """A file as its absolute path (so that the result JSON is found from anywhere), a
    built-in case as its name."""
    p = Path(source)
    return str(p.resolve()) if p.is_file() else str(source)


def _post_analyses(net: Any, st: PartitionSettings, data: Any, plan: PartitionPlan, *,
                   case: str, samples: int, ac_check: bool, seed: int,
                   time_limit_s: float, progress: ProgressCallback | None = None,
                   plan_data: Any = None) -> SampleChecks:
    """The plan in LinDist3Flow and (``ac_check``) OpenDSS (IV-E) on ``samples`` uniform
    in-box draws, and the deterministic (0 %) plan in LinDist3Flow in the same box (IV-D);
    ``progress`` gets a :class:`~feederopt.solvers.status.SampleRecord` after each sample.
    ``plan_data`` is the problem the plan was solved in (the voltage feedback's limits;
    default ``data``): the plan's LinDist3Flow share and its grid-forming set-points are
    taken there; IV-D's deterministic plan is the pure LinDist3Flow one on ``data``."""
    from feederopt.validation.partition import ac_sample_share, in_sample_share

    x = st.uncertainty
    pdata = data if plan_data is None else plan_data
    ld3f = in_sample_share(pdata, plan, uncertainty=x, samples=samples, seed=seed,
                           progress=sample_progress(progress, "LinDist3Flow-feasible", samples))
    ac = ac_sample_share(net, pdata, plan, uncertainty=x, samples=samples, seed=seed,
                         progress=sample_progress(progress, "AC-feasible, OpenDSS (IV-E)",
                                                  samples)) if ac_check else None
    det = None
    if x > 0:
        report_phase(progress, "deterministic plan (IV-D)")
        nominal = partition_data(net, replace(st, uncertainty=0.0))
        det_res = solve_robust(nominal, case=case, time_limit_s=time_limit_s)
        # stopped before any plan: the all-dark fallback is no deterministic plan to compare
        det_plan = None if det_res.trivial_plan else det_res.plan
        if det_plan is not None:
            det = in_sample_share(data, det_plan, uncertainty=x, samples=samples, seed=seed,
                                  progress=sample_progress(
                                      progress, "deterministic plan LinDist3Flow-feasible "
                                      "(IV-D)", samples)).share_pct
    return SampleChecks(samples, ld3f.share_pct, ac.share_pct if ac else None, det,
                        dict(ac.v_set_pu) if ac else None, ac.feasible if ac else None,
                        list(ac.failures) if ac else None)


def _bad_result(path: str, message: str) -> InputError:
    return InputError([Problem(
        ProblemKind.UNREADABLE_FILE, "result", message, (path,),
        hint="pass the JSON written by 'feederopt partition CASE --json FILE'")])


@option_names(TIME_LIMIT_S)
def check_partition_result(doc: Mapping[str, Any] | str | Path, *, samples: int,
                           uncertainty: float | None = None, ac_check: bool = True,
                           seed: int = 0, time_limit_s: float = 600.0,
                           path: str | None = None,
                           progress: ProgressCallback | None = None,
                           notice: Callable[[str], None] | None = None) -> SampleChecks:
    """The post-analyses of seed 001 (IV-D, IV-E; see :func:`partition`) for a partition result
    (``doc``, ``kind == "partition"``: the result's ``to_dict()`` or its JSON read back as a
    dict, or the path of its JSON file or result folder, read with
    :func:`feederopt.read_result`; anything else, or a result of another kind, is an
    :class:`InputError` naming ``doc``), in the box of ``uncertainty`` (default: the
    result's). ``path`` names the result in the problems (default: the file read, else
    ``"result"``). The problem is rebuilt from the result's ``inputs`` (source,
    settings, uncertain loads, k_der, the voltage limits ``v_min_pu``/``v_max_pu`` of its
    ``--v-min``/``--v-max``, the ratings ``thermal_limits``/``max_loading_percent`` of its
    ``--no-thermal-limits``/``--max-loading``); a result that cannot be rebuilt raises
    :class:`InputError`. ``progress`` gets each sample, as :func:`partition`'s. The feeder and
    settings files are read again: one that changed since the partition (its SHA-256 against
    the result's ``inputs.sha256``) is refused with a typed problem naming it; a result that
    records no hashes gets a warning in ``notice`` (if given)
    (:func:`~feederopt.io.digests.input_change_problems`)."""
    check_not_forked("feederopt.check_partition_result")
    from feederopt.api import result_document

    if path is None:
        path = str(result_json_path(doc)) if isinstance(doc, str | os.PathLike) else "result"
    doc = result_document(doc, function="check_partition_result", argument="doc",
                          kind="partition")
    problems: list[Problem] = []
    bad_samples = samples_problem(samples)
    if bad_samples is not None:
        problems.append(bad_samples)
    # numpy's SeedSequence takes seeds >= 0: refused before the network is read (it failed
    # after the work, user test ut48_pyapi #1)
    problems += seed_problems(seed)
    problems += switch_problems(ac_check=ac_check)
    x = doc.get("uncertainty") if uncertainty is None else uncertainty
    xf = float(x) if x is not None and is_real(x) else math.nan
    if not (math.isfinite(xf) and xf >= 0):
        problems.append(Problem(ProblemKind.INVALID_VALUE, "options",
                                f"the uncertainty must be a number >= 0, not {x}", (str(x),),
                                "uncertainty"))
    if problems:
        raise InputError(problems)
    inputs = doc.get("inputs")
    plan_doc = doc.get("plan")
    if not isinstance(inputs, dict) or not inputs.get("source"):
        raise _bad_result(path, "the partition result names no source case (its 'inputs')")
    if not isinstance(plan_doc, dict):
        raise _bad_result(path, "the partition result holds no plan")
    loads = inputs.get("uncertain_loads")
    st_path = inputs.get("settings")
    changed = input_change_problems(inputs.get("sha256"), [inputs["source"], st_path],
                                    made="the partition", field="inputs.sha256")
    if any(p.is_error for p in changed):
        raise InputError([p for p in changed if p.is_error])
    if notice is not None:
        for p in changed:
            notice(str(p))
    net = load_three_phase(inputs["source"]).nameplate_band_loads()
    st = settings_from_file(st_path, net) if st_path else PartitionSettings()
    changes: dict[str, Any] = {"uncertainty": xf}
    if loads:
        changes["uncertain_loads"] = canonical_loads(loads, net)
    if inputs.get("load_model") is not None:  # the run's (older results: the settings')
        changes["load_model"] = str(inputs["load_model"])
    if inputs.get("k_der") is not None:
        changes["k_der"] = int(inputs["k_der"])
    # the run's ratings: its --max-loading / --no-thermal-limits (older results: the ratings)
    thermal = inputs.get("thermal_limits", True)
    loading = inputs.get("max_loading_percent")
    if not is_switch(thermal) or loading_problems(loading):
        raise _bad_result(path, "the partition result's ratings (inputs.thermal_limits, "
                          "inputs.max_loading_percent) are not a switch and a positive "
                          "percentage")
    changes["loading_limit_percent"] = loading_limit(thermal, loading)
    st = replace(st, **changes)
    problems = settings_problems(st, net)
    if problems:
        raise InputError(problems)
    # the run's voltage limits: its --v-min/--v-max over the settings file's over the network's
    limits = {k: inputs.get(k) for k in ("v_min_pu", "v_max_pu")}
    if any(v is not None and not is_real(v) for v in limits.values()):
        raise _bad_result(path, "the partition result's voltage limits (inputs.v_min_pu, "
                          "inputs.v_max_pu) are not numbers")
    net = with_voltage_limits(net, st, **{k: None if v is None else float(v)
                                          for k, v in limits.items()})
    data = partition_data(net, st)
    try:
        plan = PartitionPlan(
            energised=np.asarray(plan_doc["energised"], bool),
            closed=np.asarray(plan_doc["closed"], bool),
            grid_forming=np.asarray(plan_doc["grid_forming"], bool),
            p_set=np.asarray(plan_doc["p_set"], float),
            q_set=np.asarray(plan_doc["q_set"], float))
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad_result(path, f"the plan is not readable ({exc})") from None
    shapes = {"energised": data.n_blocks, "closed": len(data.switch_ids),
              "grid_forming": len(data.der_ids), "p_set": len(data.ph_der),
              "q_set": len(data.ph_der)}
    wrong = [k for k, n in shapes.items() if getattr(plan, k).shape != (n,)]
    if wrong:
        raise _bad_result(path, f"the plan does not fit the case ({', '.join(wrong)})")
    plan_data = result_plan_data(doc, data, path=path,
                                 series=net.meta.get("series_elements") or {})
    case = str(net.meta.get("case") or net.name)
    return _post_analyses(net, st, data, plan, case=case, samples=samples, ac_check=ac_check,
                          seed=seed, time_limit_s=time_limit_s, progress=progress,
                          plan_data=plan_data)


def result_plan_data(doc: dict[str, Any], data: Any, *, path: str = "result",
                     series: Mapping[str, str] | None = None) -> Any:
    """The problem a result's plan was solved in: ``data`` (rebuilt from the result's
    ``inputs``) with the voltage feedback's limit shifts of the kept plan applied
    (``voltage_feedback.limit_shifts_pu``, :meth:`~feederopt.algorithms.partition.
    VoltageShifts.apply`: ``v_min + a_n <= V_n <= v_max - b_n``) and its DER rating cuts
    (``voltage_feedback.der_cuts``, :meth:`~feederopt.algorithms.partition.DerCuts.apply`);
    ``data`` itself when the
    result has none (feedback off, not needed, or kept at its first plan). Shifts that are
    not readable or name a node the case does not have raise :class:`InputError`; an older
    result whose kept plan was a re-solve but that stores no shifts too (its plan cannot be
    checked in the problem it was solved in: run the partition again)."""
    fb = doc.get("voltage_feedback")
    if not isinstance(fb, dict):
        return data
    raw = fb.get("limit_shifts_pu")
    if raw is None:
        kept = fb.get("kept_round")
        if fb.get("enabled") and isinstance(kept, int) and kept > 0:
            raise _bad_result(path, "the plan was solved with the voltage feedback's "
                              f"tightened limits (round {kept}), which this result does not "
                              "store (voltage_feedback.limit_shifts_pu); run 'feederopt "
                              "partition' again to write them")
        return data
    try:
        shifts = VoltageShifts.from_dict(raw)
    except ValueError as exc:
        raise _bad_result(path, f"the voltage feedback's limit shifts are not readable "
                          f"({exc})") from None
    pu = data.pu
    known = {n for k, n in enumerate(pu.node_names()) if not pu.virtual[pu.node_bus[k]]}
    unknown = sorted((set(shifts.lower) | set(shifts.upper)) - known)
    if unknown:
        raise _bad_result(path, "the voltage feedback's limit shifts name nodes the case does "
                          f"not have: {', '.join(unknown[:5])}"
                          + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else ""))
    data = shifts.apply(data) if shifts.lower or shifts.upper else data
    # and the DER phases' tightened ratings (voltage_feedback.der_cuts, DerCuts.apply); a
    # result written before them has none
    raw_cuts = fb.get("der_cuts")
    if raw_cuts is not None:
        try:
            cuts = DerCuts.from_dict(raw_cuts)
            data = cuts.apply(data) if cuts.s_kva or cuts.p_kw else data
        except ValueError as exc:
            raise _bad_result(path, f"the voltage feedback's DER rating cuts are not "
                              f"readable ({exc})") from None
    # and the lines' and transformers' tightened ratings (voltage_feedback.branch_cuts,
    # BranchCuts.apply); a result written before them has none
    raw_b = fb.get("branch_cuts")
    if raw_b is None:
        return data
    try:
        bcuts = BranchCuts.from_dict(raw_b)
        return bcuts.apply(data, series) if bcuts.scale else data
    except ValueError as exc:
        raise _bad_result(path, f"the voltage feedback's branch rating cuts are not readable "
                          f"({exc})") from None


def _why_kept(left: list[str], fixable: bool, stop_text: str) -> str:
    """Why the kept round's breaches (DER or branch) stand: those the model cannot correct,
    and, for the others, that the feedback's re-solves did not (with why it stopped)."""
    why = [f"not correctable in the model: {'; '.join(left)}"] if left else []
    if fixable or not why:
        why.append(("the others " if why else "") + "not corrected by the feedback's re-solves ("
                   + stop_text + ")")
    return "; ".join(why)
