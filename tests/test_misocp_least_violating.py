"""After the MISOCP proves that no radial topology meets the limits, it names the least-violating
topology and the limits it breaks, as Benders does after its proof (the same search,
:func:`feederopt.algorithms.benders.least_violating_after_proof`). Before, ``--method misocp``
said "the solver returned no topology" with ``diagnosis: []`` and ``total_violation_pu: null``
(user test ut_feas #2).

Truth: the 7-bus grid of :mod:`test_least_violation`, whose 79 radial topologies all break
v_min in pandapower's power flow (runpp of each, checked here); Benders' answer on it is the
reference for the topology and the limits named.
"""

from __future__ import annotations

import pytest

import feederopt
from feederopt.solvers.status import Status
from test_least_violation import V_MIN, weak_grid
from test_violation_phase_log import _every_radial_topology_breaks_v_min


def _answer(method: str) -> tuple[frozenset[str], frozenset[tuple[str, str]], float]:
    result = feederopt.solve(weak_grid(), method=method, time_limit=60)
    assert result.status is Status.INFEASIBLE, method
    assert not result.within_limits
    assert result.ac_check is not None and result.ac_check.min_voltage_pu < V_MIN
    return (frozenset(b["id"] for b in result.open_branches),
            frozenset((str(d.get("id")), d["limit"]) for d in result.diagnosis),
            result.extra["total_violation_pu"])


def test_misocp_names_the_least_violating_topology_as_benders_does() -> None:
    assert _every_radial_topology_breaks_v_min()
    misocp, benders = _answer("misocp"), _answer("benders")
    assert misocp[1], "no violated limit named"
    assert misocp[0] == benders[0]
    assert misocp[1] == benders[1]
    assert misocp[2] == pytest.approx(benders[2], rel=1e-3)
