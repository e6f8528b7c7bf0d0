"""The small schedule instance of the tests: case33bw with one switchable loop.

Ties 34-37 stay open and every branch outside the tie-33 loop stays closed, so the only
topologies are the 10 radial ones of that loop (branch ids of MATPOWER's case33bw).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from feederopt.formulations.schedule import ScheduleData
from feederopt.problems.schedule import ScheduleSettings, build_schedule_data

LOOP = {"33", "7", "6", "5", "4", "3", "2", "18", "19", "20"}
TIES = ("34", "35", "36", "37")


def one_loop_data(inputs: tuple[Any, Any, Any], hours: int, **kw: Any) -> ScheduleData:
    """``ScheduleData`` of ``inputs`` (``schedule_inputs("case33bw")``) on the tie-33 loop."""
    net, dev, prof = inputs
    ids = [str(b) for b in net.branches["id"].to_list()]
    st = ScheduleSettings(hours=hours, fixed_open=TIES,
                          fixed_closed=tuple(b for b in ids if b not in LOOP and b not in TIES),
                          **kw)
    return build_schedule_data(net, dev, prof, st)


def two_hour_instance(inputs: tuple[Any, Any, Any], buses: tuple[str, ...], units: list[int],
                      **kw: Any) -> ScheduleData:
    """Two hours of the tie-33 loop with gamma 30 %, Gamma 1 at ``buses`` and at the renewable
    ``units`` (the policy-bound tests' instances)."""
    d = one_loop_data(inputs, 2, gamma=0.3, budget=1.0, uncertain_buses=buses, **kw)
    br = np.zeros(len(d.res_bus))
    br[units] = 1.0
    return dataclasses.replace(d, budget_res=br)


def deterministic_policy(d: ScheduleData) -> tuple[dict[str, Any], float, dict[str, Any], Any]:
    """The deterministic first stage ``x`` of ``d``, the forecast's ``Q(x, 0)`` and recourse,
    and the policy bound at ``x``."""
    from feederopt.algorithms.ccg import closed_by_hour, evaluate, solve_deterministic
    from feederopt.algorithms.policy_bound import policy_bound
    from feederopt.formulations.schedule import nominal

    det = solve_deterministic(d, gap=1e-7)
    x = {"y": det.closed[0], "z": det.z}
    q0, y0 = evaluate(d, x, nominal(d))
    return x, q0, y0, policy_bound(d, x, closed_by_hour(d, x), y0, q0)
