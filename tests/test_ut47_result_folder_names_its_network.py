"""A result folder of ``restore``, ``plan``, ``partition`` or ``schedule`` (or its
result.json) given where a network is wanted names the network it was solved on (user test
ut47_recheck #3). Before, only a solve result's ``source`` field was read: ``restore case33bw
--broken 7 --out rest33; info rest33`` said "give the network it was solved on (its 'source'
field names it)", a field a restore result does not have (it records ``case``; schedule and
partition record ``inputs.source``).

Truth: the case each command was given on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io._common import result_source

runner = CliRunner()
ENV = {"COLUMNS": "400"}

RUNS = {
    "restore": ("case33bw", ["restore", "case33bw", "--broken", "7", "--no-ac-check"]),
    "plan": ("zhang13", ["plan", "zhang13", "--broken", "2", "--no-measures", "--no-ac-check",
                         "--time-limit", "60"]),
    "partition": ("ieee13mod", ["partition", "ieee13mod"]),
    "schedule": ("case33bw", ["schedule", "case33bw", "--hours", "2", "--no-ac-check",
                              "--time-limit", "60"]),
}


def _text(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args, env=ENV)
    return res.exit_code, " ".join(res.output.split())


@pytest.mark.parametrize("kind", sorted(RUNS))
def test_result_folder_names_the_network_it_was_solved_on(tmp_path: Path, kind: str) -> None:
    case, args = RUNS[kind]
    out = tmp_path / kind
    _, text = _text([*args, "--out", str(out), "-q"])
    assert (out / "result.json").is_file(), text
    code, text = _text(["info", str(out)])
    assert code == 2, text
    assert "a feederopt result folder (it holds result.json), not a network" in text
    assert f"give the network it was solved on ({case})" in text
    assert "'source' field" not in text
    code, text = _text(["info", str(out / "result.json")])
    assert code == 2, text
    assert f"give the network it was solved on ({case})" in text


def test_result_source_order() -> None:
    assert result_source({"source": "a.json", "case": "a"}) == "a.json"
    assert result_source({"inputs": {"source": "b.m"}, "case": "b"}) == "b.m"
    assert result_source({"case": "case33bw"}) == "case33bw"
    assert result_source({"source": "", "inputs": [], "case": None}) is None
