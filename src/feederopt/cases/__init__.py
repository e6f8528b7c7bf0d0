"""Built-in cases by name (:mod:`feederopt.cases.registry`) and :func:`load` of a case name, a
path or a pandapower net (:mod:`feederopt.cases.loading`)."""

from feederopt.cases.loading import (
    is_three_phase,
    load,
    load_any,
    load_three_phase,
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
    "recorded_tie_rule",
    "register_case",
    "reread_tie_rule",
    "tie_rule_problems",
]
