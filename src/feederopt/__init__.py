"""feederopt: exact radial reconfiguration of power-distribution feeders.

    >>> import feederopt
    >>> result = feederopt.solve(feederopt.load("case33bw"))
    >>> feederopt.save(result, "case33bw_result")    # tables, grid.png and report.html

``load``, ``solve`` and ``save`` (:mod:`feederopt.api`) and ``write_report``
(:mod:`feederopt.report.html`) are imported on first use, so that ``import feederopt`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from feederopt._startup import interrupted_at_start as _interrupted_at_start
from feederopt._startup import keep_ignored_sigint as _keep_ignored_sigint

try:  # a Ctrl-C while the command starts: one line and exit code 130 (feederopt._startup)
    from feederopt import forking as _forking  # noqa: F401  (its os.fork hook)
    from feederopt._version import SCHEMA_VERSION, __version__, check_schema_version, stamped
    from feederopt.errors import (
        FeederoptWarning,
        InputError,
        OptionNameError,
        OptionRef,
        OutputNotWrittenError,
        Problem,
        ProblemKind,
        caller_spelling,
    )
    from feederopt.network import Network
except KeyboardInterrupt:
    _interrupted_at_start()
    raise
_keep_ignored_sigint()  # Polars' SIGINT handler, installed by the import above, removed

if TYPE_CHECKING:
    from feederopt.algorithms.base import ProgressCallback
    from feederopt.algorithms.partition import PartitionResult, feedback_stop_text
    from feederopt.api import (
        ac_power_flow,
        generate_scenarios,
        load,
        load_result,
        read_result,
        save,
        save_json,
        solve,
    )
    from feederopt.api_partition import check_partition_result, partition
    from feederopt.api_resilience import plan, plan_settings, radiality_problems, restore
    from feederopt.api_schedule import check_schedule_result, schedule
    from feederopt.api_threephase import (
        daily_scenarios,
        solve_three_phase,
        three_phase_info,
    )
    from feederopt.cases import is_three_phase, list_cases, tie_rule_problems
    from feederopt.cases.simbench import study_case_problems, study_case_scenarios
    from feederopt.errors import FeederoptError, InfeasibleError
    from feederopt.io.folder import network_folder_given_as_result
    from feederopt.io.pandapower import TIE_RULES
    from feederopt.io.scenarios import (
        bounding_problems,
        generation_by_bus,
        resolve_scenarios,
        scenario_file_problems,
        write_scenarios,
    )
    from feederopt.io.writing import (
        check_output,
        output_problems,
        result_json_path,
        solve_folder_command,
        write_text,
    )
    from feederopt.network.id_lists import blank_entry_problems, split_ids
    from feederopt.network.limits import operating_limits
    from feederopt.network.topology import base_case_unsupplied
    from feederopt.options import (
        Box,
        Costs,
        Execution,
        Limits,
        Method,
        Scenarios,
        SolveOptions,
        Stop,
        solve_options,
    )
    from feederopt.problems.holds import held_text
    from feederopt.problems.reconfiguration import DEFAULT_RADIALITY
    from feederopt.problems.resilience import PlanSettings
    from feederopt.problems.schedule import ScheduleSettings
    from feederopt.report.html import ResultFolder, write_report
    from feederopt.report.partition import partition_result_json
    from feederopt.report.resilience import write_resilience_folder, write_restore_folder
    from feederopt.report.schedule import (
        open_lines_text,
        schedule_result_json,
        topology_by_hour,
    )
    from feederopt.report.threephase import write_three_phase_folder
    from feederopt.results.dopf import lossy_bank_note
    from feederopt.results.literature import literature_title, not_compared_note
    from feederopt.results.resilience import (
        DISCONNECTED_NOTE,
        MAX_SWITCH_OPS,
        PlanResult,
        RestoreResult,
        branch_word,
        broken_title,
        dg_output_text,
        disconnected_text,
        gap_explained,
        measure_caveats,
        named_id,
        resilience_within_text,
        switch_operations_text,
        unproven_note,
    )
    from feederopt.results.result import (
        HEURISTIC_METHODS,
        AcCheck,
        Result,
        base_case_kind,
        base_limits_note,
        base_limits_text,
        base_verdict_rows,
        branch_label,
        distinct_places,
        heuristic_note,
        kept_state_label,
        largest_loading_text,
        listed_text,
        loading_limit_text,
        nominal_breaks_limits,
        switching_text,
        within_limits_text,
        yes_no,
    )
    from feederopt.results.schedule import (
        ScheduleResult,
        ac_check_rows,
        ac_losses_mwh,
        loss_rows,
        present_switching_text,
        pwl_loss_text,
        schedule_switching_text,
        schedule_verdict_rows,
        worst_case_rows,
        worst_found_text,
    )
    from feederopt.results.threephase import (
        INFEASIBLE_BOUND_WORDS,
        KEPT_STATE,
        LimitSpread,
        OpenDssCheck,
        ScenarioSummary,
        ThreePhaseResult,
    )
    from feederopt.results.uncertain import (
        WORST_CASE_BOUND_LABEL,
        AcAllVerdict,
        RobustSummary,
        StochasticSummary,
        ac_all_label,
        ac_all_text,
        ac_broken_text,
    )
    from feederopt.solvers import interrupt
    from feederopt.solvers.status import (
        BASE_FALLBACK_WHAT,
        IterationRecord,
        PhaseRecord,
        SampleRecord,
        Status,
        holds_least_violating_state,
        kept_state_name,
        only_topology_evaluated,
    )
    from feederopt.validation.ac_least import least_violating_ac_text
    from feederopt.validation.ac_polish import polish_text
    from feederopt.validation.fidelity import model_fidelity
    from feederopt.validation.montecarlo import (
        check_box,
        check_option_problems,
        check_options,
        check_result,
        read_result_to_check,
        result_scenario_file_problems,
        uncertain_load_list_problems,
    )
    from feederopt.validation.partition import (
        current_ratings_text,
        feedback_row,
        nominal_breaches,
        nominal_check_text,
        nominal_verdict,
        plan_within_limits,
        round_reason_text,
        round_within_text,
        sample_breaches,
        validity_text,
        voltage_limits_text,
    )


#: Public names imported on first access, and the module that defines each.
_LAZY = {
    "load": "feederopt.api",
    "solve": "feederopt.api",
    "save": "feederopt.api",
    "write_report": "feederopt.report.html",
}

#: The result and settings classes that the entry points return and take, and the parts of
#: :class:`SolveOptions` (``SolveOptions(stop=Stop(...), limits=Limits(...))``), at the top
#: level as the README uses them (user test ut48_pyapi #8: ``feederopt.Limits`` and
#: ``feederopt.PartitionResult`` were AttributeErrors).
_TYPES = {
    "PartitionResult": "feederopt.algorithms.partition",
    "RestoreResult": "feederopt.results.resilience",
    "PlanResult": "feederopt.results.resilience",
    "ScheduleResult": "feederopt.results.schedule",
    "ScheduleSettings": "feederopt.problems.schedule",
    "PlanSettings": "feederopt.problems.resilience",
    "AcCheck": "feederopt.results.result",
    "Limits": "feederopt.options",
    "Stop": "feederopt.options",
    "Costs": "feederopt.options",
    "Scenarios": "feederopt.options",
    "Box": "feederopt.options",
    "Execution": "feederopt.options",
}

#: What the CLI needs beyond load, solve and save (issue 12: the CLI uses only the package root
#: and feederopt.api). Looked up on every access, not cached, so that a patched function is seen.
_FOR_CLI = {
    "FeederoptError": "feederopt.errors",
    "InfeasibleError": "feederopt.errors",
    "interrupt": "feederopt.solvers.interrupt",
    "Status": "feederopt.solvers.status",
    "IterationRecord": "feederopt.solvers.status",
    "PhaseRecord": "feederopt.solvers.status",
    "SampleRecord": "feederopt.solvers.status",
    "holds_least_violating_state": "feederopt.solvers.status",
    "kept_state_name": "feederopt.solvers.status",
    "BASE_FALLBACK_WHAT": "feederopt.solvers.status",
    "ProgressCallback": "feederopt.algorithms.base",
    "DEFAULT_RADIALITY": "feederopt.problems.reconfiguration",
    "TIE_RULES": "feederopt.io.pandapower",
    "solve_options": "feederopt.options",
    "SolveOptions": "feederopt.options",
    "Method": "feederopt.options",
    "Result": "feederopt.results.result",
    "HEURISTIC_METHODS": "feederopt.results.result",
    "iterations_text": "feederopt.results.result",
    "held_text": "feederopt.problems.holds",
    "radiality_problems": "feederopt.api_resilience",
    "only_topology_evaluated": "feederopt.solvers.status",
    "is_three_phase": "feederopt.cases",
    "tie_rule_problems": "feederopt.cases",
    "base_case_unsupplied": "feederopt.network.topology",
    "operating_limits": "feederopt.network.limits",
    "split_ids": "feederopt.network.id_lists",
    "blank_entry_problems": "feederopt.network.id_lists",
    "list_cases": "feederopt.cases",
    "write_text": "feederopt.io.writing",
    "check_output": "feederopt.io.writing",
    "output_problems": "feederopt.io.writing",
    "result_json_path": "feederopt.io.writing",
    "network_folder_given_as_result": "feederopt.io.folder",
    "solve_folder_command": "feederopt.io.writing",
    "generate_scenarios": "feederopt.api",
    "study_case_problems": "feederopt.cases.simbench",
    "study_case_scenarios": "feederopt.cases.simbench",
    "generation_by_bus": "feederopt.io.scenarios",
    "bounding_problems": "feederopt.io.scenarios",
    "resolve_scenarios": "feederopt.io.scenarios",
    "write_scenarios": "feederopt.io.scenarios",
    "scenario_file_problems": "feederopt.io.scenarios",
    "ac_power_flow": "feederopt.api",
    "model_fidelity": "feederopt.validation.fidelity",
    "polish_text": "feederopt.validation.ac_polish",
    "least_violating_ac_text": "feederopt.validation.ac_least",
    "voltage_verdict": "feederopt.validation.ac_limits",
    "limits_verdict": "feederopt.validation.ac_limits",
    "rating_verdict": "feederopt.validation.ac_limits",
    "check_box": "feederopt.validation.montecarlo",
    "check_options": "feederopt.validation.montecarlo",
    "check_option_problems": "feederopt.validation.montecarlo",
    "uncertain_load_list_problems": "feederopt.validation.montecarlo",
    "result_scenario_file_problems": "feederopt.validation.montecarlo",
    "check_result": "feederopt.validation.montecarlo",
    "read_result_to_check": "feederopt.validation.montecarlo",
    "read_result": "feederopt.api",
    "load_result": "feederopt.api",
    "ResultFolder": "feederopt.report.html",
    "branch_label": "feederopt.results.result",
    "listed_text": "feederopt.results.result",
    "base_case_kind": "feederopt.results.result",
    "base_limits_note": "feederopt.results.result",
    "nominal_breaks_limits": "feederopt.results.result",
    "heuristic_note": "feederopt.results.result",
    "base_limits_text": "feederopt.results.result",
    "base_verdict_rows": "feederopt.results.result",
    "switching_text": "feederopt.results.result",
    "largest_loading_text": "feederopt.results.result",
    "distinct_places": "feederopt.results.result",
    "kept_state_label": "feederopt.results.result",
    "within_limits_text": "feederopt.results.result",
    "yes_no": "feederopt.results.result",
    "loading_limit_text": "feederopt.results.result",
    "RobustSummary": "feederopt.results.uncertain",
    "AcAllVerdict": "feederopt.results.uncertain",
    "ac_broken_text": "feederopt.results.uncertain",
    "ac_all_label": "feederopt.results.uncertain",
    "ac_all_text": "feederopt.results.uncertain",
    "StochasticSummary": "feederopt.results.uncertain",
    "WORST_CASE_BOUND_LABEL": "feederopt.results.uncertain",
    "three_phase_info": "feederopt.api_threephase",
    "solve_three_phase": "feederopt.api_threephase",
    "ThreePhaseResult": "feederopt.results.threephase",
    "INFEASIBLE_BOUND_WORDS": "feederopt.results.threephase",
    "KEPT_STATE": "feederopt.results.threephase",
    "LimitSpread": "feederopt.results.threephase",
    "OpenDssCheck": "feederopt.results.threephase",
    "ScenarioSummary": "feederopt.results.threephase",
    "daily_scenarios": "feederopt.api_threephase",
    "partition": "feederopt.api_partition",
    "check_partition_result": "feederopt.api_partition",
    "partition_result_json": "feederopt.report.partition",
    "feedback_stop_text": "feederopt.algorithms.partition",
    "validity_text": "feederopt.validation.partition",
    "voltage_limits_text": "feederopt.validation.partition",
    "current_ratings_text": "feederopt.validation.partition",
    "nominal_breaches": "feederopt.validation.partition",
    "nominal_check_text": "feederopt.validation.partition",
    "feedback_row": "feederopt.validation.partition",
    "round_reason_text": "feederopt.validation.partition",
    "round_within_text": "feederopt.validation.partition",
    "nominal_verdict": "feederopt.validation.partition",
    "plan_within_limits": "feederopt.validation.partition",
    "sample_breaches": "feederopt.validation.partition",
    "save_json": "feederopt.api",
    "restore": "feederopt.api_resilience",
    "plan": "feederopt.api_resilience",
    "plan_settings": "feederopt.api_resilience",
    "write_resilience_folder": "feederopt.report.resilience",
    "write_restore_folder": "feederopt.report.resilience",
    "schedule": "feederopt.api_schedule",
    "check_schedule_result": "feederopt.api_schedule",
    "schedule_result_json": "feederopt.report.schedule",
    "open_lines_text": "feederopt.report.schedule",
    "topology_by_hour": "feederopt.report.schedule",
    "pwl_loss_text": "feederopt.results.schedule",
    "loss_rows": "feederopt.results.schedule",
    "ac_losses_mwh": "feederopt.results.schedule",
    "ac_check_rows": "feederopt.results.schedule",
    "worst_found_text": "feederopt.results.schedule",
    "worst_case_rows": "feederopt.results.schedule",
    "present_switching_text": "feederopt.results.schedule",
    "schedule_switching_text": "feederopt.results.schedule",
    "schedule_verdict_rows": "feederopt.results.schedule",
    "lossy_bank_note": "feederopt.results.dopf",
    "literature_title": "feederopt.results.literature",
    "not_compared_note": "feederopt.results.literature",
    "DISCONNECTED_NOTE": "feederopt.results.resilience",
    "disconnected_text": "feederopt.results.resilience",
    "dg_output_text": "feederopt.results.resilience",
    "broken_title": "feederopt.results.resilience",
    "branch_word": "feederopt.results.resilience",
    "measure_caveats": "feederopt.results.resilience",
    "gap_explained": "feederopt.results.resilience",
    "named_id": "feederopt.results.resilience",
    "MAX_SWITCH_OPS": "feederopt.results.resilience",
    "resilience_within_text": "feederopt.results.resilience",
    "switch_operations_text": "feederopt.results.resilience",
    "unproven_note": "feederopt.results.resilience",
    "write_three_phase_folder": "feederopt.report.threephase",
}

__all__ = [
    "BASE_FALLBACK_WHAT",
    "DEFAULT_RADIALITY",
    "DISCONNECTED_NOTE",
    "HEURISTIC_METHODS",
    "INFEASIBLE_BOUND_WORDS",
    "KEPT_STATE",
    "MAX_SWITCH_OPS",
    "SCHEMA_VERSION",
    "TIE_RULES",
    "WORST_CASE_BOUND_LABEL",
    "AcAllVerdict",
    "AcCheck",
    "Box",
    "Costs",
    "Execution",
    "FeederoptError",
    "FeederoptWarning",
    "InfeasibleError",
    "InputError",
    "IterationRecord",
    "LimitSpread",
    "Limits",
    "Method",
    "Network",
    "OpenDssCheck",
    "OptionNameError",
    "OptionRef",
    "OutputNotWrittenError",
    "PartitionResult",
    "PhaseRecord",
    "PlanResult",
    "PlanSettings",
    "Problem",
    "ProblemKind",
    "ProgressCallback",
    "RestoreResult",
    "Result",
    "ResultFolder",
    "RobustSummary",
    "SampleRecord",
    "ScenarioSummary",
    "Scenarios",
    "ScheduleResult",
    "ScheduleSettings",
    "SolveOptions",
    "Status",
    "StochasticSummary",
    "Stop",
    "ThreePhaseResult",
    "__version__",
    "ac_all_label",
    "ac_all_text",
    "ac_broken_text",
    "ac_check_rows",
    "ac_losses_mwh",
    "ac_power_flow",
    "base_case_kind",
    "base_case_unsupplied",
    "base_limits_note",
    "base_limits_text",
    "base_verdict_rows",
    "blank_entry_problems",
    "bounding_problems",
    "branch_label",
    "branch_word",
    "broken_title",
    "caller_spelling",
    "check_box",
    "check_option_problems",
    "check_options",
    "check_output",
    "check_partition_result",
    "check_result",
    "check_schedule_result",
    "check_schema_version",
    "current_ratings_text",
    "daily_scenarios",
    "dg_output_text",
    "disconnected_text",
    "distinct_places",
    "feedback_row",
    "feedback_stop_text",
    "gap_explained",
    "generate_scenarios",
    "generation_by_bus",
    "held_text",
    "heuristic_note",
    "holds_least_violating_state",
    "interrupt",
    "is_three_phase",
    "kept_state_label",
    "kept_state_name",
    "largest_loading_text",
    "least_violating_ac_text",
    "limits_verdict",
    "list_cases",
    "listed_text",
    "literature_title",
    "load",
    "load_result",
    "loading_limit_text",
    "loss_rows",
    "lossy_bank_note",
    "measure_caveats",
    "model_fidelity",
    "named_id",
    "network_folder_given_as_result",
    "nominal_breaches",
    "nominal_breaks_limits",
    "nominal_check_text",
    "nominal_verdict",
    "not_compared_note",
    "only_topology_evaluated",
    "open_lines_text",
    "operating_limits",
    "output_problems",
    "partition",
    "partition_result_json",
    "plan",
    "plan_settings",
    "plan_within_limits",
    "polish_text",
    "present_switching_text",
    "pwl_loss_text",
    "radiality_problems",
    "rating_verdict",
    "read_result",
    "read_result_to_check",
    "resilience_within_text",
    "resolve_scenarios",
    "restore",
    "result_json_path",
    "result_scenario_file_problems",
    "round_reason_text",
    "round_within_text",
    "sample_breaches",
    "save",
    "save_json",
    "scenario_file_problems",
    "schedule",
    "schedule_result_json",
    "schedule_switching_text",
    "schedule_verdict_rows",
    "solve",
    "solve_folder_command",
    "solve_options",
    "solve_three_phase",
    "split_ids",
    "stamped",
    "study_case_problems",
    "study_case_scenarios",
    "switch_operations_text",
    "switching_text",
    "three_phase_info",
    "tie_rule_problems",
    "topology_by_hour",
    "uncertain_load_list_problems",
    "unproven_note",
    "validity_text",
    "voltage_limits_text",
    "voltage_verdict",
    "within_limits_text",
    "worst_case_rows",
    "worst_found_text",
    "write_report",
    "write_resilience_folder",
    "write_restore_folder",
    "write_scenarios",
    "write_text",
    "write_three_phase_folder",
    "yes_no",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        return value
    if name in _TYPES:
        return getattr(importlib.import_module(_TYPES[name]), name)
    if name in _FOR_CLI:
        module = importlib.import_module(_FOR_CLI[name])
        return module if _FOR_CLI[name].endswith("." + name) else getattr(module, name)
    raise AttributeError(f"module 'feederopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_TYPES) | set(_FOR_CLI))
