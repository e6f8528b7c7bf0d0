"""``feederopt info`` shows the phase under way on a terminal, as ``solve`` does (user test
ut49_bigrid #3: nothing for about 2 min on simbench:1-MVLV-urban-all-0-sw), and nothing of it
where stderr is no terminal (a pipe, a log file, CliRunner)."""

from __future__ import annotations

import importlib
import io
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from feederopt import PhaseRecord
from feederopt.cli import app
from feederopt.cli.info import INFO_PHASES, network_info

runner = CliRunner(env={"COLUMNS": "200"})
#: the module (``feederopt.cli.app`` as an attribute is the typer app)
cli_app = importlib.import_module("feederopt.cli.app")


def test_the_progress_callback_is_given_each_phase_in_order() -> None:
    events: list[Any] = []
    data = network_info("case33bw", progress=events.append)
    assert data["buses"] == 33
    assert all(isinstance(e, PhaseRecord) for e in events)
    assert [e.phase for e in events] == list(INFO_PHASES)
    elapsed = [e.elapsed_s for e in events]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0.0


def test_no_progress_on_a_non_terminal() -> None:
    res = runner.invoke(app, ["info", "case33bw"])
    assert res.exit_code == 0, res.output
    text = res.output + (res.stderr if res.stderr_bytes is not None else "")
    assert "\x1b" not in text  # no cursor control of a live display
    for name in INFO_PHASES:
        assert name not in text
    assert "info case33bw" not in text
    assert text.lstrip().startswith("case33bw")  # the table comes first, as before


@pytest.mark.parametrize("json_output", [False, True])
def test_a_terminal_shows_the_phase_on_stderr(monkeypatch: pytest.MonkeyPatch,
                                               json_output: bool) -> None:
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, width=120)
    monkeypatch.setattr(cli_app, "stderr", lambda: terminal)
    res = runner.invoke(app, ["info", "case33bw", *(["--json"] if json_output else [])])
    assert res.exit_code == 0, res.output
    shown = buffer.getvalue()
    assert "info case33bw" in shown
    assert INFO_PHASES[-1] in shown  # the last phase, drawn as the line is removed
    assert "info case33bw" not in res.stdout  # stdout is the table or the JSON alone
