"""User test ut51_cli #5: ``feederopt solve case33bw --out ""`` was refused as "'.' is the
current folder or holds it": the user gave an empty string, not '.'. The truth is the command
line: the path typed was empty."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from feederopt.cli import app


@pytest.mark.parametrize(("args", "what"), [
    (["solve", "case33bw", "--out", ""], "folder"),
    (["solve", "case33bw", "--json", ""], "file"),
    (["scenarios", "case33bw", "-o", ""], "file"),
])
def test_empty_output_path_is_said_empty(args: list[str], what: str) -> None:
    res = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    text = " ".join(res.output.split())
    assert res.exit_code == 2, text
    assert f"the {what} path is empty" in text
    assert "'.'" not in text and "current folder" not in text
    assert "Traceback" not in text
