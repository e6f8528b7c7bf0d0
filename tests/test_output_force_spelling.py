"""The output-path problems name ``force`` as the caller's layer does (re-check ut42_recheck_b
#1): ``feederopt.save(r, 'l1')``, ``l1`` a link to an existing folder, said "pass --force
(force=True) to replace it", and a link loop was refused "with or without --force" from
Python too. Python now reads ``force=True``, the command line ``--force``; the message of a
problem met through a link keeps its option reference (it was spelled once, for Python, when
the link's words were put in front of it).

Truth: the folder and the link are made here; what each layer calls the option is its own
signature (``save(..., force=...)``, ``solve --force``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from netbuild import tiny

runner = CliRunner()


@pytest.fixture(scope="module")
def result() -> feederopt.Result:
    return feederopt.solve(tiny(), time_limit=20, ac_check=False)


def _links(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "target1").mkdir()  # an existing (empty) folder: force would replace it
    link = tmp_path / "l1"
    link.symlink_to("target1")
    os.symlink("l4b", tmp_path / "l4a")
    os.symlink("l4a", tmp_path / "l4b")
    return link, tmp_path / "l4a"


def _python_error(call: Callable[[], object]) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    return info.value


def _python_text(call: Callable[[], object]) -> str:
    return str(_python_error(call))


def test_python_names_force_as_a_keyword(result: feederopt.Result, tmp_path: Path) -> None:
    link, loop = _links(tmp_path)
    text = _python_text(lambda: feederopt.save(result, link, report=False))
    assert "pass force=True to replace it" in text, text
    assert "--force" not in text
    text = _python_text(lambda: feederopt.save(result, loop, report=False))
    assert "link loop" in text and "with or without force=True" in text, text
    assert "--force" not in text
    text = _python_text(lambda: feederopt.save_json(result, loop))
    assert "with or without force=True" in text and "--force" not in text, text
    error = _python_error(lambda: feederopt.save(result, link, report=False))
    kinds = [p.kind for p in error.problems]
    assert kinds == [ProblemKind.OUTPUT_EXISTS]
    assert list((tmp_path / "target1").iterdir()) == []  # nothing written


def test_the_command_line_names_force_as_its_flag(tmp_path: Path) -> None:
    link, loop = _links(tmp_path)
    for out, said in ((link, "pass --force to replace it"),
                      (loop, "with or without --force")):
        res = runner.invoke(app, ["solve", "case33bw", "--out", str(out), "--time-limit", "5"])
        text = " ".join(res.output.split())
        assert res.exit_code == 2 and said in text, text
        assert "force=True" not in text and "Traceback" not in text
    res = runner.invoke(app, ["solve", "case33bw", "--json", str(loop), "--time-limit", "5"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "with or without --force" in text, text
    assert list((tmp_path / "target1").iterdir()) == []
