""":func:`feederopt.algorithms.partition.operating_point` builds the plan's recourse block
once for its three stages (the value, the least reactive re-dispatch, the set-point nearest
1 p.u.); it built it three times, a third of the time of a partition's voltage feedback.

The count is the test's own (a wrapper around ``recourse_block`` while ``operating_point``
runs); that the points are unchanged is what the OpenDSS comparisons of
tests/test_partition_voltage_limits.py check (OpenDSS driven without feederopt)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from partition_feeders import long_line, long_line_b2_voltages


def test_operating_point_builds_its_recourse_block_once(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import feederopt.algorithms.partition as algo
    from feederopt.api_partition import partition

    feeder, settings = tmp_path / "long.dss", tmp_path / "long.json"
    feeder.write_text(long_line(3500, 1166.67))
    settings.write_text(json.dumps({"dss": {"Generator.g1": {"inverter": "gfm"}}}))
    calls = {"points": 0, "inside": 0}
    depth = [0]
    build, point = algo.recourse_block, algo.operating_point

    def counted_build(*args: Any, **kw: Any) -> Any:
        calls["inside"] += depth[0] > 0
        return build(*args, **kw)

    def counted_point(*args: Any, **kw: Any) -> Any:
        calls["points"] += 1
        depth[0] += 1
        try:
            return point(*args, **kw)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(algo, "recourse_block", counted_build)
    monkeypatch.setattr(algo, "operating_point", counted_point)
    res = partition(str(feeder), settings=settings, time_limit_s=120)
    assert calls["points"] >= 1
    assert calls["inside"] == calls["points"]
    # and the point is still OpenDSS's: b2 within the network's limits at the plan's set-point
    (mg,) = res.to_dict()["microgrids"]
    assert 0.9 <= long_line_b2_voltages(feeder, mg["v_set_pu"], 1.0)[0] < 0.95
