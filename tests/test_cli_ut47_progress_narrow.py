"""On a narrow terminal the progress line shortens the phase's text, never the figures (user
test ut47_cli #4).

``solve case69bw`` on 80 columns ended "...conic probing of the switc… it 0 LB 78.06 UB 98.6
gap 20.…": the gap and the elapsed time cut. The bar's columns
(:func:`feederopt.cli.app.progress_columns`) are rendered here as rich renders them on a
console of 60, 80 and 120 columns, with an iteration line built by hand; the truth is that
hand-made text: every figure whole, and the time.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.progress import Progress

from feederopt.cli.app import progress_columns

PHASE = "benders case69bw: conic probing of the switches (SOCP per open line)"
INFO = "it 0  LB 78.06  UB 98.6  gap 20.831%"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_figures_and_the_time_are_whole(width: int) -> None:
    buf = io.StringIO()
    console = Console(width=width, file=buf, color_system=None)
    bar = Progress(*progress_columns(width), console=console, auto_refresh=False)
    bar.add_task(PHASE, total=None, info=INFO)
    console.print(bar.make_tasks_table(bar.tasks))
    line = buf.getvalue().rstrip("\n")
    assert "\n" not in line and len(line) <= width, line
    assert INFO in line, line  # was "gap 20.…" on 80 columns
    assert line.endswith("0:00:00"), line  # the elapsed time
    assert line.startswith("benders"), line  # the phase shortened, not dropped
    if len(PHASE) + len(INFO) + 20 > width:
        assert "…" in line.split(INFO)[0], line
