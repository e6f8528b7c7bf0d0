"""Shared test hygiene: figures that a test draws through pyplot (``grid_figure`` and the other
``*_figure`` functions return them open, for the test to inspect) are closed after the test,
so that a worker running many test files does not accumulate them (matplotlib warns past 20)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="module")
def nine_bus_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The meshed nine-bus pandapower net of ``netbuild.nine_bus_pandapower`` written as a
    pandapower JSON file (the path) for a test module's CLI runs, and the net itself."""
    pp = pytest.importorskip("pandapower")
    from netbuild import nine_bus_pandapower

    net = nine_bus_pandapower()
    path = tmp_path_factory.mktemp("nine_bus") / "net9.json"
    pp.to_json(net, str(path))
    return path, net
