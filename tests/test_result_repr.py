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


def test_every_name_in_the_repr_is_an_attribute_path_with_that_value() -> None:
    """ut44_nb #4: ``ac_losses_kw=`` and ``ac_within_limits=`` were no attributes (the
    attribute is ``ac_check.losses_kw``), and ``open_branches=[7, 9, ...]`` showed a list of
    ids for a list of dicts."""
    import operator
    import re

    result = feederopt.solve(tiny(), time_limit=30)
    assert result.ac_check is not None and result.open_branches
    names = re.findall(r"^    ([\w.]+)=", repr(result), re.M)
    assert "ac_check.losses_kw" in names and "ac_check.within_limits" in names
    for name in names:
        operator.attrgetter(name)(result)  # an AttributeError for a name that is none
    text = repr(result)
    assert f"ac_check.losses_kw={result.ac_check.losses_kw:.6g}" in text
    n = len(result.open_branches)
    ids = ", ".join(str(b["id"]) for b in result.open_branches[:8])
    assert f"open_branches=<{n} branches (dicts), ids {ids}" in text
