"""A network without branches (a single bus: a table folder whose branches table has a header
and no row) has no ids to list: ``restore --broken 1``'s and ``solve --hold-closed 1``'s hint
says so, and not "the network's branch ids are " with an empty list (ut36_errs, nits #1)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app


def _single_bus(tmp_path: Path) -> Path:
    folder = tmp_path / "single"
    folder.mkdir()
    (folder / "buses.csv").write_text("id,vn_kv,is_source\nS,12.66,true\n")
    (folder / "branches.csv").write_text("id,from_bus,to_bus,r_ohm,x_ohm\n")
    (folder / "loads.csv").write_text("id,bus,p_mw,q_mvar\nld1,S,0.5,0.1\n")
    return folder


def _hint(args: list[str]) -> str:
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 2, run.output
    assert "Traceback" not in run.output
    (line,) = [x for x in run.output.splitlines() if "does not have" in x]
    return line.split("(hint: ", 1)[1]


def test_restore_on_a_network_without_branches_says_it_has_none(tmp_path: Path) -> None:
    hint = _hint(["restore", str(_single_bus(tmp_path)), "--broken", "1", "--no-ac-check",
                  "-q"])
    assert "has no branches" in hint and "restore" in hint
    assert "ids are" not in hint


def test_a_hold_on_a_network_without_branches_says_it_has_none(tmp_path: Path) -> None:
    hint = _hint(["solve", str(_single_bus(tmp_path)), "--hold-closed", "1", "-q"])
    assert "has no branches" in hint and "ids are" not in hint
