"""Built-in cases by name (:mod:`feederopt.cases.registry`) and :func:`load` of a case name, a
path or a pandapower net (:mod:`feederopt.cases.loading`)."""

from feederopt.cases.loading import (
    IN_MEMORY_KEY,
    is_three_phase,
    load,
    load_any,
    load_three_phase,
    names_built_in_case,
    recorded_tie_rule,
    reread_tie_rule,
    tie_rule_problems,
)
from feederopt.cases.registry import (
    MATPOWER_DISTRIBUTION_CASES,
    CaseInfo,
    case_names,
    has_case,
    list_cases,
    load_case,
    register_case,
)

__all__ = [
    "IN_MEMORY_KEY",
    "MATPOWER_DISTRIBUTION_CASES",
    "CaseInfo",
    "case_names",
    "has_case",
    "is_three_phase",
    "list_cases",
    "load",
    "load_any",
    "load_case",
    "load_three_phase",
    "names_built_in_case",
    "recorded_tie_rule",
    "register_case",
    "reread_tie_rule",
    "tie_rule_problems",
]
