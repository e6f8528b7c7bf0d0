"""A double circuit whose merged name is the id of another branch: a typed problem that says so
(user test ut_edge #4: L1 and L1b parallel and never open beside a branch ``L1+L1b`` gave
"duplicate_id: branches [L1+L1b].id: 1 id(s) occur more than once", an id the user never wrote
twice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import read_folder

BRANCHES = """id,from_bus,to_bus,r_ohm,x_ohm,switchable,normally_open
L1,1,2,0.5,0.3,False,False
L2,2,3,0.8,0.5,True,False
L3,3,4,0.9,0.6,True,True
L1b,2,1,1.0,0.6,False,False
L1+L1b,3,4,0.9,0.6,True,False
"""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dc"
    folder.mkdir()
    (folder / "buses.csv").write_text(
        "id,vn_kv,is_source\n1,12.66,True\n2,12.66,False\n3,12.66,False\n4,12.66,False\n")
    (folder / "branches.csv").write_text(BRANCHES)
    (folder / "loads.csv").write_text("id,bus,p_mw,q_mvar\nd2,2,0.5,0.1\nd4,4,0.3,0.1\n")
    return folder


def test_merged_name_clash_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_folder(_folder(tmp_path))
    (p,) = [p for p in err.value.problems if p.kind is ProblemKind.DUPLICATE_ID]
    assert p.component == "branches" and p.field == "id" and p.ids == ("L1+L1b",)
    assert "L1, L1b" in p.message and "clashes with the branch L1+L1b" in p.message
    assert "more than once" not in p.message


def test_merged_name_clash_exits_2(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["info", str(_folder(tmp_path))], env={"COLUMNS": "240"})
    assert out.exit_code == 2, out.output
    assert "clashes with the branch L1+L1b" in out.output and "Traceback" not in out.output
