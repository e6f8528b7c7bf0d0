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

from feederopt._version import __version__
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.network import Network

if TYPE_CHECKING:
    from feederopt.api import load, save, solve
    from feederopt.report.html import write_report


#: Public names imported on first access, and the module that defines each.
_LAZY = {
    "load": "feederopt.api",
    "solve": "feederopt.api",
    "save": "feederopt.api",
    "write_report": "feederopt.report.html",
}

__all__ = [
    "InputError",
    "Network",
    "Problem",
    "ProblemKind",
    "__version__",
    "load",
    "save",
    "solve",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'feederopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
