"""Shared test hygiene: figures that a test draws through pyplot (``grid_figure`` and the other
``*_figure`` functions return them open, for the test to inspect) are closed after the test,
so that a worker running many test files does not accumulate them (matplotlib warns past 20)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt = sys.modules.get("matplotlib.pyplot")  # only where a test imported it
    if plt is not None:
        plt.close("all")
