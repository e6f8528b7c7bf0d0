"""Built-in cases by name: see :mod:`feederopt.cases.registry`."""

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
    "list_cases",
    "load_case",
    "register_case",
]
