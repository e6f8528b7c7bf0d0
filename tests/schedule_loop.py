"""The small schedule instance of the tests: case33bw with one switchable loop.

Ties 34-37 stay open and every branch outside the tie-33 loop stays closed, so the only
topologies are the 10 radial ones of that loop (branch ids of MATPOWER's case33bw).
"""

from __future__ import annotations

from typing import Any

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
