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


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A local Ray (2 CPUs, no dashboard, quiet) for a test module, shut down after it unless
    the module found one running; skips where Ray is not installed."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    yield
    if started:
        ray.shutdown()
