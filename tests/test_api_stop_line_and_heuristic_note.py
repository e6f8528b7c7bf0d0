"""User test ut44_nb #5: a LinDistFlow result said nothing in its ``notes`` of what its
iteration log says (a heuristic, no bound), and a Ctrl-C in an API solve said that the answer
is "reported and written", though the Python API writes nothing."""

from __future__ import annotations

import math
import signal

import pytest

import feederopt
from feederopt.solvers import interrupt


def test_a_lindistflow_result_notes_that_it_is_a_heuristic() -> None:
    res = feederopt.solve("case33bw", method="lindistflow", time_limit=30)
    assert res.has_topology
    assert res.lower_bound == -math.inf  # what the run itself states: no bound
    notes = [n for n in res.notes if "heuristic" in n]
    assert len(notes) == 1, res.notes
    # the option as Python takes it, not the command line's flag
    assert "method=benders" in notes[0]
    assert "--method" not in notes[0]
    exact = feederopt.solve("case33bw", time_limit=30)
    assert not [n for n in exact.notes if "heuristic" in n]


@pytest.mark.parametrize("command", [False, True])
def test_the_stop_line_says_written_only_in_the_command(command: bool, capsys) -> None:
    interrupt.clear()
    try:
        if command:
            with interrupt.command_outputs():
                interrupt._handler(signal.SIGINT, None)
        else:
            interrupt._handler(signal.SIGINT, None)
    finally:
        interrupt.clear()
    line = capsys.readouterr().err.strip()
    assert line.startswith("SIGINT: stopping;") and "again to exit at once" in line
    assert ("written" in line) is command
    if not command:
        assert "returned" in line
