"""User test ut34 #2 (repro3_write_after_solve.sh): when the output could not be written after a
finished run (its folder made read-only during the solve, or another run created the --json
file meanwhile), the command printed nothing and exited 2, "1 problem in the input -
output_exists": the answer was lost and the input blamed. Every command that writes after its
run now prints its answer all the same, then "the run finished but its output could not be
written: ...", exit code 5 (README, exit codes). The paths are still checked before the run
(exit 2, nothing run).

The obstacle appears while the command runs: the writer the command calls is wrapped so that
another "run" first puts a file or folder of its own at the path (what a second run or a
``chattr +i`` does). The answers printed are checked against published values: Baran & Wu's
case33bw optimum opens 7, 9, 14, 32 and 37 (139.55 kW), seed 003's zhang13 restoration with
lines 2, 11 and 15 broken sheds 471 kW."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import feederopt
import feederopt.api
import feederopt.api_resilience
import feederopt.io.scenarios
import feederopt.io.writing
import feederopt.report.html
import feederopt.report.partition
import feederopt.report.threephase
from feederopt.cli import app

runner = CliRunner(env={"COLUMNS": "400"})  # no wrapped table rows, whatever the worker
LATE = "the run finished but its output could not be written"
THEIRS = '{"written by": "another run"}\n'


def _meanwhile(monkeypatch: pytest.MonkeyPatch, module: Any, name: str,
               obstacle: Callable[[], None]) -> None:
    """``module.name`` (a writer) finds ``obstacle()`` done just before it writes."""
    real = getattr(module, name)

    def late(*args: Any, **kwargs: Any) -> Any:
        obstacle()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, late)


def _file(path: Path) -> Callable[[], None]:
    return lambda: path.write_text(THEIRS)


def _folder(path: Path) -> Callable[[], None]:
    def make() -> None:
        path.mkdir()
        (path / "theirs.txt").write_text(THEIRS)
    return make


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_solve_prints_its_answer_when_json_and_out_fail(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    j, out = tmp_path / "r.json", tmp_path / "out"
    _meanwhile(monkeypatch, feederopt.api, "save_json", _file(j))
    _meanwhile(monkeypatch, feederopt.api, "save", _folder(out))
    res = runner.invoke(app, ["solve", "case33bw", "--time-limit", "60", "--json", str(j),
                              "--out", str(out)])
    text = _flat(res.output)
    assert res.exit_code == 5, res.output  # EXIT_OUTPUT_NOT_WRITTEN
    # the answer, as published (Baran & Wu): printed although nothing could be written
    assert "7 (7-8), 9 (9-10), 14 (14-15), 32 (32-33), 37 (25-29)" in text
    assert "139.55" in text
    assert LATE in text and "problem in the input" not in text
    assert str(j) in text and str(out) in text  # both failures, named
    assert j.read_text() == THEIRS and [p.name for p in out.iterdir()] == ["theirs.txt"]


def test_the_paths_are_still_checked_before_the_solve(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    j = tmp_path / "r.json"
    j.write_text(THEIRS)

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("solved although the output path was known to be taken")

    monkeypatch.setattr(feederopt.api, "solve", no_solve)
    res = runner.invoke(app, ["solve", "case33bw", "--json", str(j)])
    assert res.exit_code == 2 and "output_exists" in res.output, res.output
    assert LATE not in _flat(res.output)


def test_a_three_phase_solve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "tp"
    _meanwhile(monkeypatch, feederopt.report.threephase, "write_three_phase_folder",
               _folder(out))
    res = runner.invoke(app, ["solve", "ieee13", "--no-ac-check", "--time-limit", "60",
                              "--out", str(out)])
    text = _flat(res.output)
    assert res.exit_code == 5, res.output
    assert "ieee13: three-phase" in text and "open switches" in text and LATE in text


def test_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    j = tmp_path / "r.json"
    _meanwhile(monkeypatch, feederopt.api_resilience, "restore", _file(j))  # during the run
    res = runner.invoke(app, ["restore", "zhang13", "--broken", "2,11,15", "--radiality",
                              "seed", "--json", str(j)])
    text = _flat(res.output)
    assert res.exit_code == 5, res.output
    assert "restore with lines 2, 11, 15 broken" in text and LATE in text
    assert re.search(r"\bshed\W+471\.00 kW", text), text  # seed 003's value, printed


def test_partition_out_written_by_the_api(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``partition --out`` is written by feederopt.partition itself: it raises
    OutputNotWrittenError with the answer, which the command prints."""
    out = tmp_path / "mg"
    _meanwhile(monkeypatch, feederopt.report.partition, "write_partition_folder",
               _folder(out))
    res = runner.invoke(app, ["partition", "ieee13mod", "--out", str(out)])
    text = _flat(res.output)
    assert res.exit_code == 5, res.output
    # the summary comes from the result that the api's OutputNotWrittenError carried
    assert "ieee13mod: partition" in text and "served load" in text and LATE in text


def test_quiet_solve_scenarios_check_and_report(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    scen = tmp_path / "s.csv"
    _meanwhile(monkeypatch, feederopt.io.scenarios, "write_scenarios", _file(scen))
    res = runner.invoke(app, ["scenarios", "case33bw", "--out", str(scen), "--count", "2"])
    assert res.exit_code == 5 and "2 scenarios" in res.output and LATE in _flat(res.output)
    assert scen.read_text() == THEIRS

    # --quiet prints nothing but errors: this is one (the --out folder is written), and the
    # answer is printed with it, else a quiet run whose only output failed lost it (re-check
    # of ut34: exit 5, nothing on stdout); Baran & Wu's published open branches
    result, j = tmp_path / "res", tmp_path / "r.json"
    _meanwhile(monkeypatch, feederopt.api, "save_json", _file(j))
    res = runner.invoke(app, ["solve", "case33bw", "--time-limit", "60", "--json", str(j),
                              "--out", str(result), "-q"])
    assert res.exit_code == 5 and LATE in _flat(res.output), res.output
    assert "7 (7-8), 9 (9-10), 14 (14-15), 32 (32-33), 37 (25-29)" in _flat(res.output)
    assert (result / "result.json").is_file()
    c = tmp_path / "c.json"
    _meanwhile(monkeypatch, feederopt.io.writing, "write_text", _file(c))
    res = runner.invoke(app, ["check", str(result), "-u", "0.05", "--samples", "2",
                              "--no-ac", "--json", str(c)])
    assert res.exit_code == 5 and "out-of-sample check" in res.output, res.output
    assert LATE in _flat(res.output) and json.loads(c.read_text()) == json.loads(THEIRS)

    page = tmp_path / "page.html"
    _meanwhile(monkeypatch, feederopt.report.html, "write_text", _file(page))
    res = runner.invoke(app, ["report", str(result), "--out", str(page)])
    assert res.exit_code == 5 and LATE in _flat(res.output), res.output
    assert "problem in the input" not in res.output and page.read_text() == THEIRS
