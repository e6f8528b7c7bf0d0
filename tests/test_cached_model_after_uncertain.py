"""The cached pandapower model of a network survives a scenario, robust or lindistflow solve.

User test ut44_nb: on a network of MATPOWER origin, a scenario AC check added its loads with
pandapower's ``create_loads`` (which replaces ``net.load`` by a new DataFrame) inside
``loads_set``, which wrote the nominal loads back into the DataFrame it held before: every
later solve on the same object checked a grid without load (0.0 kW, min V 1.0). The truth is
pandapower's runpp of the .m file's feeder built here (tests/matpower_files.py), not
feederopt's model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import feederopt
from feederopt.uncertainty import solve_scenarios
from matpower_files import feeder_losses

CASE = "case12da"  # radial: every topology is the file's own, solved fast


def _scenarios(net: Any) -> Any:
    return feederopt.generate_scenarios(net, count=2, seed=1)


FIRST: dict[str, Callable[[Any], Any]] = {
    "robust": lambda net: feederopt.solve(net, robust=0.2, time_limit=20, gap=0.02),
    "scenarios": lambda net: feederopt.solve(net, scenarios=_scenarios(net), time_limit=20,
                                             workers=1, gap=0.02),
    "stochastic": lambda net: solve_scenarios(net, _scenarios(net), time_limit=20, gap=0.02),
    "lindistflow": lambda net: feederopt.solve(net, method="lindistflow", time_limit=20),
}


@pytest.mark.parametrize("first", sorted(FIRST))
def test_a_later_solve_checks_the_loaded_grid(first: str) -> None:
    want_kw, want_vmin = feeder_losses(CASE)  # pandapower runpp of the .m file, radial
    net = feederopt.load(CASE)
    FIRST[first](net)
    again = feederopt.solve(net, time_limit=20)
    assert not again.open_branches  # case12da has no tie: the file's own feeder
    ac = again.ac_check
    assert ac is not None and ac.converged
    assert ac.losses_kw == pytest.approx(want_kw, rel=1e-6)
    assert ac.min_voltage_pu == pytest.approx(want_vmin, abs=1e-6)
    fresh = feederopt.solve(feederopt.load(CASE), time_limit=20).ac_check
    assert fresh is not None
    assert ac.losses_kw == pytest.approx(fresh.losses_kw, rel=1e-9)
    assert ac.within_limits == fresh.within_limits
