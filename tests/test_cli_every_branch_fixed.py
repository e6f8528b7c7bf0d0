"""When every branch is fixed (nothing to decide), the console summary says so: before, it
showed status optimal, 0 iterations and the method, and the note "every branch is fixed: the
fixed topology is evaluated" was only in the JSON (user test ut_edge #6)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

NOTE = "every branch is fixed: the fixed topology is evaluated"


def test_console_names_the_fixed_topology(tmp_path: Path) -> None:
    folder = tmp_path / "fixed"
    folder.mkdir()
    (folder / "buses.csv").write_text("id,vn_kv,is_source\nS,12.66,True\na,12.66,False\n"
                                      "b,12.66,False\n")
    (folder / "branches.csv").write_text("id,from_bus,to_bus,r_ohm,x_ohm,switchable\n"
                                         "L1,S,a,0.5,0.3,False\nL2,a,b,0.4,0.2,False\n")
    (folder / "loads.csv").write_text("id,bus,p_mw,q_mvar\nda,a,0.5,0.1\ndb,b,0.3,0.1\n")
    out_json = tmp_path / "r.json"
    out = CliRunner().invoke(app, ["solve", str(folder), "--no-ac-check", "--json",
                                   str(out_json)], env={"COLUMNS": "240"})
    assert out.exit_code == 0, out.output
    assert json.loads(out_json.read_text())["note"] == NOTE  # the premise: a fixed topology
    assert NOTE in out.output
