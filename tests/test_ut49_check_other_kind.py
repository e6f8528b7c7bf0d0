"""User test ut49_docs #2: `feederopt check` of a restore folder was refused as
``unreadable_file`` "cannot read ...", though the file was read and its kind recognised; it is
now an ``invalid_value`` on the result's ``kind`` naming it (``resilience_restore``) and the
command that wrote it, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind


def test_a_restore_result_is_the_wrong_kind_not_unreadable(tmp_path: Path) -> None:
    doc = {"kind": "resilience_restore", "case": "case33bw", "broken": ["6"]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    assert json.loads(path.read_text())["kind"] == "resilience_restore"  # readable JSON
    with pytest.raises(InputError) as e:
        feederopt.check_result(str(path), samples=5, uncertainty=0.1)
    (p,) = e.value.problems
    assert p.kind is ProblemKind.INVALID_VALUE and p.field == "kind"
    assert "cannot read" not in p.message and "feederopt restore" in p.message
    res = CliRunner().invoke(app, ["check", str(path), "-n", "5", "-u", "0.1"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "invalid_value" in res.output and "unreadable_file" not in res.output
