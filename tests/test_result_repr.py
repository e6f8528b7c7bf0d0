"""``repr`` of a result at the Python prompt (session 38): the headline figures, short. The
dataclass repr printed every table and the network: 14,708 characters for case33bw."""

from __future__ import annotations

import sys
from pathlib import Path

import feederopt

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import tiny


def test_result_repr_is_short_and_shows_the_answer() -> None:
    result = feederopt.solve(tiny(), time_limit=30)
    text = repr(result)
    assert len(text) < 1000, len(text)
    assert text.startswith("Result(") and f"status={result.status.value!r}" in text
    assert f"objective={result.objective:.6g}" in text
    assert all(b["id"] in text for b in result.open_branches)
    assert f"buses=<{result.buses.height} x {result.buses.width} table>" in text
    assert "network=" not in text and "Network(" not in text


def test_three_phase_result_repr_is_short() -> None:
    result = feederopt.solve_three_phase("ieee13mod", time_limit_s=60)
    text = repr(result)
    assert len(text) < 1000, len(text)
    assert f"status={result.status!r}" in text and "801675" in text
