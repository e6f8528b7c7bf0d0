"""User test ut49_cli #1 and #2.

#1: ``solve --json /dev/stdout`` wrote the document twice (once, then again with the wall-clock
time after the folder), so ``| jq`` read two documents; a pipe or device now gets it once.
The truth: Python's own JSON parser reads the whole stream as exactly one document.

#2: ``restore``/``plan`` with ``--time-limit inf`` wrote ``"time_limit_s": Infinity``, which
is no JSON (RFC 8259 has no such constant); every non-finite number is null now, as solve's.
The truth: a strict parser that refuses the non-standard constants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="no /dev/stdout")
def test_json_to_a_pipe_is_one_document(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    run = subprocess.run(
        [sys.executable, "-m", "feederopt", "solve", "case33bw", "--time-limit", "30", "-q",
         "--json", "/dev/stdout", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)  # "Extra data" before: two documents
    assert isinstance(doc, dict) and doc["kind"] == "solve" and "wall_clock_s" in doc
    # the folder's result.json is the same answer
    folder = json.loads((tmp_path / "out" / "result.json").read_text())
    assert folder["objective"] == doc["objective"]


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="no /dev/stdout")
def test_json_to_stdout_redirected_to_a_file_is_one_document(tmp_path: Path) -> None:
    """ut49_recheck #1: `--json /dev/stdout > q.out` still held two documents (the link
    /dev/stdout resolves to the regular file q.out)."""
    env = {**os.environ, "PYTHONPATH": SRC}
    target = tmp_path / "q.out"
    with target.open("w") as fh:
        run = subprocess.run(
            [sys.executable, "-m", "feederopt", "solve", "case33bw", "--time-limit", "30",
             "-q", "--json", "/dev/stdout"],
            stdout=fh, stderr=subprocess.PIPE, text=True, env=env, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    doc = json.loads(target.read_text())
    assert doc["kind"] == "solve" and "wall_clock_s" in doc


@pytest.mark.parametrize("command", [
    ["restore", "zhang13", "--broken", "2"],
    ["plan", "zhang13", "--broken", "2,6"],
])
def test_infinite_time_limit_is_null_in_the_json(tmp_path: Path, command: list[str]) -> None:
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, [*command, "--time-limit", "inf", "-q", "--json", str(out),
                                   "--out", str(tmp_path / "folder")])
    assert res.exit_code in (0, 4), res.output
    doc = _strict(out.read_text())
    folder = _strict((tmp_path / "folder" / "result.json").read_text())
    assert isinstance(doc, dict) and isinstance(folder, dict)
    assert "Infinity" not in out.read_text()
