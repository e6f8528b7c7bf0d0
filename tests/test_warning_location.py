"""The ``FeederoptWarning`` values of ``feederopt.solve`` point at the caller's line: user test
ut36_api #4 found them attributed to ``contextlib.py:81`` (``solve``'s ``@handle_signals()``
is a context manager used as a decorator, whose ``inner`` frame is outside the package), so
Python's default filter showed them once for every script, not once per calling line."""

from __future__ import annotations

import inspect
import warnings

import polars as pl

import feederopt
from netbuild import tiny, tiny_tables


def _solve_recorded(net: feederopt.Network, **options: object) -> tuple[list, int]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        feederopt.solve(net, time_limit=60, ac_check=False, **options)
    return [w for w in caught if issubclass(w.category, feederopt.FeederoptWarning)], line


def test_a_network_warning_points_at_the_line_that_called_solve() -> None:
    branches = tiny_tables()["branches"].rename({"normally_open": "normaly_open"})
    caught, line = _solve_recorded(tiny(branches=branches))
    (w,) = [w for w in caught if "normaly_open" in str(w.message)]
    assert (w.filename, w.lineno) == (__file__, line)


def test_an_option_warning_points_at_the_line_that_called_solve() -> None:
    rated = tiny(branches=tiny_tables()["branches"].with_columns(i_max_ka=pl.lit(0.3)))
    caught, line = _solve_recorded(rated, max_loading_percent=1.2)
    (w,) = [w for w in caught if "looks like a factor" in str(w.message)]
    assert (w.filename, w.lineno) == (__file__, line)
