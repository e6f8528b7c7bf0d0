"""The command line that writes a result's folder, rebuilt from its ``--json`` file.

``feederopt report FILE.json`` refuses a ``--json`` file (a report is built from a folder: its
tables and figures), and its hint is the command line that writes the folder: the network the
JSON records (a solve's ``source``, a schedule's or partition's ``inputs.source``, else its
``case`` when that is a built-in case) and, for a balanced solve, the options its ``settings``
record where they differ from the command line's defaults (``--method``, ``--gap``,
``--time-limit``, ..., and its held branches), and the input files that a schedule or
partition records (``--profiles``, ``--devices``, ``--settings``; every option a partition
records too, :func:`partition_options`; a restoration's and a plan's options, their
``--broken`` or ``--scenarios FILE`` and ``--ties``). Before, the hint was
the template ``feederopt solve CASE --out DIR --report`` (user test ut38_cli #3). Options that
the JSON does not record are not guessed.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from feederopt.cases import names_built_in_case
from feederopt.formulations.resilience import RadialityKind
from feederopt.options import DEFAULT_RADIALITY, Method, Stop
from feederopt.problems.resilience import PlanSettings

#: What the templates of :data:`feederopt.report.html.REPORTS` call the network.
_PLACEHOLDERS = ("CASE", "FEEDER.dss")


def recorded_source(doc: Mapping[str, Any]) -> str | None:
    """The network of the result ``doc`` as a command line names it: its ``source`` (a solve:
    the built-in case or the file's absolute path), else its ``inputs.source`` (a schedule, a
    partition), else its ``case`` when that is a case that feederopt knows by name (a plan or
    a restoration records only the network's name, which for a file is not a path) and the
    document does not say that its network was given as an object
    (:func:`~feederopt.cases.names_built_in_case`); None when the document says none."""
    inputs = doc.get("inputs")
    for value in (doc.get("source"),
                  inputs.get("source") if isinstance(inputs, Mapping) else None):
        if isinstance(value, str) and value:
            return value
    return names_built_in_case(dict(doc))


def _number(x: Any) -> float | None:
    ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
    return float(x) if ok else None


def _stop_options(s: Mapping[str, Any]) -> list[str]:
    """``--gap`` and ``--time-limit`` of the settings ``s`` where they differ from
    :class:`~feederopt.options.Stop`'s defaults (the command line's)."""
    stop, out = Stop(), []
    gap, limit = _number(s.get("gap")), _number(s.get("time_limit_s"))
    if gap is not None and gap != stop.gap:
        out += ["--gap", f"{gap:g}"]
    if limit is not None and limit != stop.time_limit_s:
        out += ["--time-limit", f"{limit:.12g}"]
    return out


def _check_options(s: Mapping[str, Any]) -> list[str]:
    """``--no-ac-check``, ``--ac-polish`` and ``--switch-cost`` of the settings ``s``."""
    out = ["--no-ac-check"] if s.get("ac_check") is False else []
    if s.get("ac_polish") is True:
        out.append("--ac-polish")
    if (cost := _number(s.get("switch_cost_kw"))) is not None:
        out += ["--switch-cost", f"{cost:g}"]
    return out


def solve_options(doc: Mapping[str, Any]) -> list[str]:
    """The options of ``feederopt solve`` that the solve result ``doc`` records in its
    ``settings`` (and its uncertainty), each where it differs from the command line's default:
    ``--method`` (a nominal solve's, always), ``--scenarios FILE`` (``--objective worst``)
    or ``--robust X`` (``--uncertain-loads``, ``--budget``), ``--gap``, ``--time-limit``,
    ``--radiality``, ``--solver``, ``--v-min``/``--v-max`` (when given as options),
    ``--max-loading``, ``--no-thermal-limits``, ``--no-ac-check``, ``--ac-polish``,
    ``--switch-cost``, ``--no-probing``, ``--fixed-generation``, ``--fix-devices``,
    ``--controls``, ``--loss-price``, ``--workers``, ``--ray``, ``--ties`` (the result's
    ``ties``, when not ``auto``) and the held branches (:func:`held_options`). User test
    ut49_journey #1: the holds and ``--no-probing`` were dropped; a robust run over every
    load was hinted ``--uncertain-loads ...``, which no shell runs (``uncertain_loads_given``
    false: the option is left out)."""
    settings = doc.get("settings")
    s: Mapping[str, Any] = settings if isinstance(settings, Mapping) else {}
    out: list[str] = []
    robust = doc.get("robust_summary")
    scenarios = doc.get("scenarios_file")
    if isinstance(scenarios, str) and scenarios:
        out += ["--scenarios", shlex.quote(scenarios)]
        if s.get("scenario_objective") == "worst":  # the default is expected
            out += ["--objective", "worst"]
    elif isinstance(robust, Mapping) and _number(robust.get("uncertainty")) is not None:
        out += ["--robust", f"{robust['uncertainty']:g}"]
        loads = robust.get("uncertain_loads")
        if s.get("uncertain_loads_given") is False:  # every load varied: the default
            loads = None
        if isinstance(loads, list) and loads:  # the loads that varied (all, when not given)
            # every id, however many: a hint is a command to run (user test ut50_recheck #5:
            # "--uncertain-loads ..." past 20 loads)
            out += ["--uncertain-loads", shlex.quote(",".join(map(str, loads)))]
        if _number(robust.get("budget")) is not None:
            out += ["--budget", f"{robust['budget']:g}"]
        band = robust.get("source_vm_band_pu")
        if isinstance(band, list) and len(band) == 2 and all(
                _number(x) is not None for x in band):
            out += ["--source-vm-band", f"{band[0]:g}:{band[1]:g}"]
    elif s.get("method") in {m.value for m in Method}:
        out += ["--method", str(s["method"])]
    out += _stop_options(s)
    radiality = s.get("radiality")
    if isinstance(radiality, str) and radiality != DEFAULT_RADIALITY.value:
        out += ["--radiality", shlex.quote(radiality)]
    if isinstance(s.get("solver_option"), str) and s["solver_option"]:
        out += ["--solver", shlex.quote(s["solver_option"])]
    limits = doc.get("limits")
    if isinstance(limits, Mapping):  # the options given, exactly (the settings' band may
        # hold the network's value beside one option's: "options and network")
        for key, option in (("v_min_pu", "--v-min"), ("v_max_pu", "--v-max")):
            value = _number(limits.get(key))
            if value is not None:
                out += [option, f"{value:.12g}"]
    elif s.get("voltage_band_from") in ("options", "options and network"):
        for key, option in (("v_min_pu", "--v-min"), ("v_max_pu", "--v-max")):
            value = _number(s.get(key))  # one value: the option's (a spread is the network's)
            if value is not None:
                out += [option, f"{value:g}"]
    if "max_loading_percent" in s and s.get("max_loading_percent") is None:
        out.append("--no-thermal-limits")
    elif (loading := _number(s.get("max_loading_percent"))) is not None and loading != 100.0:
        out += ["--max-loading", f"{loading:g}"]
    out += _check_options(s)
    if s.get("probing") is False:
        out.append("--no-probing")
    if s.get("fixed_generation") is True:
        out.append("--fixed-generation")
    if s.get("fix_devices") is True:
        out.append("--fix-devices")
    controls = s.get("controls")
    if isinstance(controls, list) and all(isinstance(c, str) for c in controls):
        out += ["--controls", shlex.quote(",".join(controls))]
    if (price := _number(s.get("loss_price_per_mwh"))) is not None:
        out += ["--loss-price", f"{price:.12g}"]
    return out + _execution_options(s) + _ties(doc) + held_options(doc)


def three_phase_options(doc: Mapping[str, Any]) -> list[str]:
    """The options of ``feederopt solve FEEDER.dss`` that the three-phase result ``doc``
    records in its ``settings`` (the options as given,
    :attr:`~feederopt.results.threephase.ThreePhaseResult.settings`), each where it differs
    from the command line's default: ``--scenarios FILE``, ``--time-limit``, ``--gap``,
    ``--v-min``/``--v-max``, ``--max-loading``, ``--no-thermal-limits``, ``--no-ac-check``,
    ``--no-voltage-feedback``, ``--ac-polish``, ``--switch-cost``, and ``--workers`` and
    ``--ray`` when given (recorded as given though the solve runs in one process, as a
    balanced solve's). A result written before it recorded them gets none (session 49's
    known list)."""
    settings = doc.get("settings")
    s: Mapping[str, Any] = settings if isinstance(settings, Mapping) else {}
    out: list[str] = []
    if isinstance(s.get("scenarios_file"), str) and s["scenarios_file"]:
        out += ["--scenarios", shlex.quote(s["scenarios_file"])]
    out += _stop_options(s)
    for key, option in (("v_min_pu", "--v-min"), ("v_max_pu", "--v-max")):
        if (value := _number(s.get(key))) is not None:
            out += [option, f"{value:.12g}"]
    if s.get("thermal_limits") is False:
        out.append("--no-thermal-limits")
    elif (loading := _number(s.get("max_loading_percent"))) is not None:
        out += ["--max-loading", f"{loading:g}"]
    if s.get("voltage_feedback") is False:
        out.append("--no-voltage-feedback")
    return out + _check_options(s) + _execution_options(s)


def _execution_options(s: Mapping[str, Any]) -> list[str]:
    """``--workers N`` and ``--ray ADDRESS`` of the settings ``s`` (``workers``,
    ``ray_address``), where recorded."""
    out: list[str] = []
    workers = s.get("workers")
    if isinstance(workers, int) and not isinstance(workers, bool):
        out += ["--workers", str(workers)]
    if isinstance(s.get("ray_address"), str) and s["ray_address"]:
        out += ["--ray", shlex.quote(s["ray_address"])]
    return out


def held_options(doc: Mapping[str, Any]) -> list[str]:
    """``--hold-closed IDS`` and ``--hold-open IDS`` of the branches the solve result ``doc``
    held (its ``held``: ``{"closed": [...], "open": [...]}``). Before (user test ut49_journey
    #1) the hint dropped them, and the command it gave opened other branches."""
    held = doc.get("held")
    if not isinstance(held, Mapping):
        return []
    out: list[str] = []
    for key, option in (("closed", "--hold-closed"), ("open", "--hold-open")):
        ids = held.get(key)
        if isinstance(ids, list) and ids and all(isinstance(b, str | int) for b in ids):
            out += [option, shlex.quote(",".join(map(str, ids)))]
    return out


#: The input files a result's ``inputs`` record, by kind, and the options that give them.
INPUT_FILES = {"schedule": (("profiles", "--profiles"), ("devices", "--devices")),
               "partition": (("settings", "--settings"),)}


def input_file_options(doc: Mapping[str, Any], kind: str) -> list[str]:
    """The options that give the input files the result ``doc`` of ``kind`` records in its
    ``inputs`` (:data:`INPUT_FILES`: a schedule's profiles and devices, a partition's
    settings), each file as recorded (an absolute path)."""
    inputs = doc.get("inputs")
    if not isinstance(inputs, Mapping):
        return []
    out: list[str] = []
    for key, option in INPUT_FILES.get(kind, ()):
        value = inputs.get(key)
        if isinstance(value, str) and value:
            out += [option, shlex.quote(value)]
    return out


#: ``feederopt partition``'s default ``--time-limit`` [s] (:mod:`feederopt.cli.partition`).
PARTITION_TIME_LIMIT_S = 600.0


def partition_options(doc: Mapping[str, Any]) -> list[str]:
    """The options of ``feederopt partition`` that the partition result ``doc`` records.
    Those a settings file may also set (its ``partition`` section) are written whatever their
    value, so that the command does not depend on the file's: ``--uncertainty`` (the result's
    ``uncertainty``), ``--uncertain-loads`` (``inputs.uncertain_loads``, when the run named
    some), ``--k-der``, ``--constant-power-loads`` or ``--voltage-dependent-loads``
    (``inputs.load_model``) and ``--voltage-feedback`` or ``--no-voltage-feedback``
    (``inputs.voltage_feedback``; for older files, ``voltage_feedback.stopped`` ``off`` or
    ``enabled``). Then ``--extensive`` (``method``), ``--v-min``/``--v-max``,
    ``--max-loading`` and ``--no-thermal-limits`` (``inputs``: the options given, none when
    not given or at 100 %; ``thermal_limits`` false), ``--time-limit`` (when not the default
    600 s), ``--samples N`` (``checks.samples``), ``--no-ac-check``, ``--workers`` (when
    not 1) and ``--ray`` (``inputs.workers``, ``inputs.ray_address``). Before (user test
    ut49_part #3) the hint had only the limits: the ``--uncertainty 0.1 --k-der 2`` of a run
    were dropped, and the command given found another plan."""
    inputs = doc.get("inputs")
    i: Mapping[str, Any] = inputs if isinstance(inputs, Mapping) else {}
    out: list[str] = []
    if (x := _number(doc.get("uncertainty"))) is not None:
        out += ["--uncertainty", f"{x:.12g}"]
    loads = i.get("uncertain_loads")
    if isinstance(loads, list) and loads:
        out += ["--uncertain-loads", shlex.quote(",".join(map(str, loads)))]
    k = i.get("k_der", doc.get("k_der"))
    if isinstance(k, int) and not isinstance(k, bool):
        out += ["--k-der", str(k)]
    model = i.get("load_model", doc.get("load_model"))
    if model in ("constant_power", "voltage_dependent"):
        out.append("--constant-power-loads" if model == "constant_power"
                   else "--voltage-dependent-loads")
    feedback = i.get("voltage_feedback")
    fb = doc.get("voltage_feedback")
    if not isinstance(feedback, bool) and isinstance(fb, Mapping):  # written before it
        feedback = True if fb.get("enabled") is True else False if fb.get(
            "stopped") == "off" else None
    if isinstance(feedback, bool):
        out.append("--voltage-feedback" if feedback else "--no-voltage-feedback")
    if doc.get("method") == "extensive":
        out.append("--extensive")
    for key, option in (("v_min_pu", "--v-min"), ("v_max_pu", "--v-max")):
        value = _number(i.get(key))
        if value is not None:
            out += [option, f"{value:g}"]
    if i.get("thermal_limits") is False:
        out.append("--no-thermal-limits")
    elif (loading := _number(i.get("max_loading_percent"))) is not None \
            and loading != 100.0:
        out += ["--max-loading", f"{loading:g}"]
    limit = _number(i.get("time_limit_s"))
    if limit is not None and limit != PARTITION_TIME_LIMIT_S:
        out += ["--time-limit", f"{limit:.12g}"]
    checks = doc.get("checks")
    c: Mapping[str, Any] = checks if isinstance(checks, Mapping) else {}
    n = c.get("samples")
    if isinstance(n, int) and not isinstance(n, bool) and n > 0:
        out += ["--samples", str(n)]
        if i.get("ac_check") is False or c.get("ac_pct", 0) is None:
            out.append("--no-ac-check")
    workers = i.get("workers")  # as given (ut50_par #1)
    if isinstance(workers, int) and not isinstance(workers, bool) and workers != 1:
        out += ["--workers", str(workers)]
    if isinstance(i.get("ray_address"), str) and i["ray_address"]:
        out += ["--ray", shlex.quote(i["ray_address"])]
    return out


#: ``feederopt restore``'s default ``--radiality`` (:mod:`feederopt.cli.resilience`).
RESTORE_RADIALITY = "forest"
#: ``feederopt restore``'s default ``--dg-size`` [kW] and ``--time-limit`` [s].
RESTORE_DG_SIZE_KW = 100.0
RESTORE_TIME_LIMIT_S = 600.0


def restore_options(doc: Mapping[str, Any]) -> list[str]:
    """The options of ``feederopt restore`` that the restoration result ``doc`` records:
    ``--broken`` (its ``broken`` ids; ``""`` for none), ``--dg-sites`` (its ``dg_sites``, when
    any) and ``--radiality`` where it is not the default ``forest``; from its ``settings``
    (results written since session 48), ``--dg-size`` (with DG sites, when not the default
    100 kW), ``--switch-penalty`` (when it was given), ``--time-limit`` (when not the default
    600 s), ``--no-ac-check`` and ``--ties`` (when not the default ``auto``: the tie rule
    decides a pandapower file's switchable branches). Older files record none of these, and
    they are not guessed. Without a recorded ``broken`` the template's ``--broken ...``
    stays. Before (user test ut47_report #4), the hint kept ``--broken ...`` though the file records
    ``"broken": ["2"]``."""
    out: list[str] = []
    broken = doc.get("broken")
    if isinstance(broken, list) and all(isinstance(b, str | int) for b in broken):
        out += ["--broken", shlex.quote(",".join(map(str, broken)))]
    sites = doc.get("dg_sites")
    if isinstance(sites, list) and sites and all(isinstance(b, str | int) for b in sites):
        out += ["--dg-sites", shlex.quote(",".join(map(str, sites)))]
    radiality = doc.get("radiality")
    if isinstance(radiality, str) and radiality and radiality != RESTORE_RADIALITY:
        out += ["--radiality", shlex.quote(radiality)]
    settings = doc.get("settings")
    if not isinstance(settings, Mapping):
        return out
    size = _number(settings.get("dg_p_max_kw"))
    if out.count("--dg-sites") and size is not None and size != RESTORE_DG_SIZE_KW:
        out += ["--dg-size", f"{size:.12g}"]
    penalty = _number(settings.get("switch_penalty_pu"))
    if settings.get("switch_penalty_given") is True and penalty is not None:
        out += ["--switch-penalty", f"{penalty:.12g}"]
    limit = _number(settings.get("time_limit_s"))
    if limit is not None and limit != RESTORE_TIME_LIMIT_S:
        out += ["--time-limit", f"{limit:.12g}"]
    if settings.get("ac_check") is False:
        out += ["--no-ac-check"]
    return out + _ties(settings)


#: ``feederopt plan``'s defaults: ``--method`` and ``--time-limit`` [s] (the settings' are
#: :class:`~feederopt.problems.resilience.PlanSettings`'s).
PLAN_METHOD = "extensive"
PLAN_METHODS = ("extensive", "lshaped")
PLAN_TIME_LIMIT_S = 600.0
#: The :class:`~feederopt.problems.resilience.PlanSettings` a plan's ``settings`` record and
#: the options of ``feederopt plan`` that set them (``--dg-size`` sets P and Q max alike).
PLAN_SETTINGS = (("harden_budget", "--harden-budget"), ("dg_budget", "--dg-budget"),
                 ("dg_cost_per_kw", "--dg-cost"), ("dg_p_max_kw", "--dg-size"),
                 ("harden_cost", "--harden-cost"), ("voll", "--voll"))


#: ``--ties``'s default (:data:`feederopt.io.pandapower.TIE_RULES`' first).
DEFAULT_TIES = "auto"


def _ties(settings: Mapping[str, Any]) -> list[str]:
    """``--ties RULE`` where the recorded tie rule is not the default ``auto``."""
    ties = settings.get("ties")
    return ["--ties", shlex.quote(ties)] if isinstance(ties, str) and ties and \
        ties != DEFAULT_TIES else []


def plan_options(doc: Mapping[str, Any]) -> list[str]:
    """The options of ``feederopt plan`` that the plan result ``doc`` records, each where it
    differs from the command's default: first how the scenarios were given, ``--broken IDS``
    (its ``broken``) or ``--scenarios FILE`` (its ``scenarios_file``, an absolute path);
    then ``--ties``, from its ``settings`` the budgets and costs (:data:`PLAN_SETTINGS`),
    ``--radiality``, ``--switch-penalty`` (where not the radiality's default penalty),
    ``--method``, ``--gap``, ``--time-limit``, ``--no-measures`` and ``--no-ac-check``.
    A file written before these were recorded gets only what it records (user test: the hint
    was ``feederopt plan case33bw --scenarios ... --out DIR`` for a ``--broken 2,10`` run,
    without its budgets, ``--dg-size`` and ``--voll``)."""
    out: list[str] = []
    broken = doc.get("broken")
    scenarios = doc.get("scenarios_file")
    if isinstance(broken, list) and broken and all(isinstance(b, str | int) for b in broken):
        out += ["--broken", shlex.quote(",".join(map(str, broken)))]
    elif isinstance(scenarios, str) and scenarios:
        out += ["--scenarios", shlex.quote(scenarios)]
    settings = doc.get("settings")
    s: Mapping[str, Any] = settings if isinstance(settings, Mapping) else {}
    out += _ties(s)
    default = PlanSettings()
    for key, option in PLAN_SETTINGS:
        value = _number(s.get(key))
        if value is not None and value != float(getattr(default, key)):
            out += [option, f"{value:.12g}"]
    radiality = s.get("radiality")
    kinds = {k.value: k for k in RadialityKind}
    if isinstance(radiality, str) and radiality in kinds and \
            radiality != default.radiality.value:
        out += ["--radiality", radiality]
    penalty = _number(s.get("switch_penalty"))
    at = replace(default, radiality=kinds.get(str(radiality), default.radiality))
    if penalty is not None and penalty != at.penalty:
        out += ["--switch-penalty", f"{penalty:.12g}"]
    method = doc.get("method")
    if isinstance(method, str) and method in PLAN_METHODS and method != PLAN_METHOD:
        out += ["--method", method]
    if (gap := _number(s.get("gap"))) is not None:
        out += ["--gap", f"{gap:.12g}"]
    limit = _number(s.get("time_limit_s"))
    if limit is not None and limit != PLAN_TIME_LIMIT_S:
        out += ["--time-limit", f"{limit:.12g}"]
    if s.get("measures") is False:
        out.append("--no-measures")
    if s.get("ac_check") is False:
        out.append("--no-ac-check")
    return out


def command_again(doc: Mapping[str, Any], kind: str, template: str) -> str:
    """The command line that writes the folder of the ``--json`` document ``doc`` of ``kind``,
    from the command's ``template`` (``feederopt solve CASE --out DIR``): the placeholder
    filled with :func:`recorded_source` (kept where the document records none), the input
    files it records (:func:`input_file_options`), a balanced solve's :func:`solve_options`
    and its ``--report`` (a partition's :func:`partition_options`, a three-phase solve's
    :func:`three_phase_options`, a restoration's
    :func:`restore_options` in place of the template's ``--broken ...``, a plan's
    :func:`plan_options` in place of its ``--scenarios ...``), before ``--out DIR``."""
    source = recorded_source(doc)
    out = template
    if source is not None:
        for placeholder in _PLACEHOLDERS:
            out = out.replace(placeholder, shlex.quote(source))
    head, _, tail = out.partition(" --out ")
    options = input_file_options(doc, kind) + (
        solve_options(doc) if kind == "solve" else partition_options(doc)
        if kind == "partition" else three_phase_options(doc) if kind == "three_phase_solve"
        else [])
    if kind == "resilience_restore":
        recorded = restore_options(doc)
        if recorded[:1] == ["--broken"]:  # the recorded ids replace the placeholder
            head = head.replace(" --broken ...", "")
        options += recorded
    if kind == "resilience_plan":
        recorded = plan_options(doc)
        if recorded[:1] in (["--broken"], ["--scenarios"]):  # given: replaces the placeholder
            head = head.replace(" --scenarios ...", "")
        options += recorded
    return " ".join([head, *options, "--out", tail, *(["--report"] if kind == "solve" else [])])
