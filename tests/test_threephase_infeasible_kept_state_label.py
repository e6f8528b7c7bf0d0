"""User test ut37_tph2: an ``infeasible`` three-phase solve (the voltage feedback found no
radial topology within the limits and kept its first answer) listed "open switches" and
"changed switches" and "lower bound ... gap 0.00 %" in the console's main table, read as a
switching plan with a proven 0 % gap. The rows now name the states as the kept ones that break
the limits, and the lower bound shows no gap, in the console and in report.html. The balanced
console names an infeasible run's topology the same way (one helper,
:func:`feederopt.results.result.kept_state_label`).

The truth: OpenDSS alone, the file compiled with the listed switches open, loads a line above
its rating (``tests/data/ut32_3ph/feederM4.dss``; the user's brute force of its 152 radial
states found none within the ratings, see test_threephase_feedback_no_state_within)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from feederopt import kept_state_label
from feederopt.cli import app
from test_threephase_feedback_no_state_within import FEEDER, _opendss_max_loading


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, int]:
    out = tmp_path_factory.mktemp("inflabel") / "res"
    res = CliRunner().invoke(app, ["solve", str(FEEDER), "--out", str(out)],
                             env={"COLUMNS": "400"})
    return res.output, (out / "report.html").read_text(), res.exit_code


def _row(output: str, name: str) -> tuple[str, str]:
    """The main table's row whose name starts with ``name``: (its name, its value)."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) >= 4 and cells[1].startswith(name):
            return cells[1], cells[2]
    raise AssertionError(f"no row {name!r} in\n{output}")


def test_console_names_the_kept_state_and_shows_no_gap(run: tuple[str, str, int]) -> None:
    output, _, code = run
    assert code == 3, output
    assert _row(output, "status")[1] == "infeasible"
    label, opened = _row(output, "open switches")
    # the listed state does break the limits: OpenDSS alone loads a line above its rating
    assert _opendss_max_loading(opened.split(", ")) > 100.0
    assert label == "open switches (kept state, breaks the limits)"
    assert _row(output, "changed switches")[0] == \
        "changed switches (kept state, breaks the limits)"
    bound = _row(output, "lower bound")[1]
    assert "gap" not in bound.replace("no gap", "") and "%" not in bound
    assert bound.startswith("- ")


def test_report_names_the_kept_state_and_shows_no_gap(run: tuple[str, str, int]) -> None:
    _, html, _ = run
    assert '<th scope="row">open switches (kept state, breaks the limits)</th>' in html
    assert '<th scope="row">changed switches (kept state, breaks the limits)</th>' in html
    assert '<th scope="row">open switches (answer)</th>' not in html
    bound = re.search(r'<th scope="row">lower bound[^<]*</th><td>([^<]*)</td>', html)
    assert bound is not None and "%" not in bound.group(1)


def test_the_label_of_a_feasible_or_optimal_state_is_unchanged() -> None:
    assert kept_state_label("open branches", "optimal", "least-violating state") == \
        "open branches"
    assert kept_state_label("open branches", "infeasible", "least-violating state") == \
        "open branches (least-violating state, breaks the limits)"
