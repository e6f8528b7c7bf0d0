"""``--hold-closed``/``--hold-open`` on a .dss feeder (user test ut46_dss3 #3): refused, but
neither ``--help`` nor the error said so or named the documented way to hold a switch of a
.dss feeder, a ``SwtControl`` with ``Lock=yes`` in the file (docs/threephase.md). The help and
the hint now do, and the way they name works: ieee37mod with ``sw32`` locked closed gives the
switch states that OpenDSS's own brute force over the radial states with sw32 closed finds
best (swt1, swt2, swt3 open, 44.666 kW; unheld, the optimum opens sw32 at 44.512 kW)."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import networkx as nx
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt import solve_three_phase
from feederopt.cases.threephase import three_phase_case_path
from feederopt.io.opendss import compile_circuit
from opendss_plain import two_terminal_edges

runner = CliRunner()
SWITCHES = ["swsub", "sw3", "sw4", "sw6", "sw8", "sw28", "sw32", "swt1", "swt2", "swt3"]
LOCK = "New SwtControl.hold_sw32 SwitchedObj=Line.sw32 Lock=yes"


@pytest.mark.parametrize("option", ["--hold-closed", "--hold-open"])
def test_help_and_error_name_the_lock_in_the_file(option: str) -> None:
    from feederopt.cli import app

    flat = " ".join(runner.invoke(app, ["solve", "--help"], env={"COLUMNS": "200"})
                    .output.split())
    assert flat.count("Balanced grids only: on a .dss feeder") == 2
    out = runner.invoke(app, ["solve", "ieee37mod", option, "sw32"])
    assert out.exit_code == 2
    text = " ".join((out.output + out.stderr).split())
    assert f"{option} not available for three-phase feeders yet" in text
    assert ("to hold a switch of a .dss feeder, set its state in the file (enabled=yes closed, "
            "enabled=no open) and lock it there: New SwtControl.hold_X SwitchedObj=Line.X "
            "Lock=yes") in text


def _locked_copy(tmp_path: Path) -> Path:
    folder = three_phase_case_path("ieee37mod").parent
    shutil.copytree(folder, tmp_path / "ieee37mod")
    shutil.copytree(folder.parent / "ieee37", tmp_path / "ieee37")
    path = tmp_path / "ieee37mod" / "ieee37mod.dss"
    text = path.read_text()
    at = text.index("Set VoltageBases")
    path.write_text(text[:at] + LOCK + "\n\n" + text[at:])
    return path


def _brute_force(path: Path) -> tuple[float, tuple[str, ...]]:
    """OpenDSS's least losses over the radial states (a tree of every bus, all energised)
    with sw32 closed, by the states' own solves (controls off)."""
    compile_circuit(path)
    edges = two_terminal_edges()
    nodes = {e[1] for e in edges} | {e[2] for e in edges}
    best: tuple[float, tuple[str, ...]] = (float("inf"), ())
    others = [s for s in SWITCHES if s != "sw32"]
    for opened in itertools.combinations(others, 3):
        graph: nx.Graph = nx.Graph()
        graph.add_nodes_from(nodes)
        graph.add_edges_from((a, b) for n, a, b in edges if n not in opened)
        if not nx.is_tree(graph):
            continue
        compile_circuit(path)
        dss.Text.Command("Set ControlMode=OFF")
        for s in SWITCHES:
            dss.Text.Command(f"Line.{s}.enabled={'no' if s in opened else 'yes'}")
        dss.Solution.Solve()
        assert dss.Solution.Converged()
        best = min(best, (dss.Circuit.Losses()[0] / 1000, opened))
    return best


def test_a_switch_locked_in_the_file_is_held(tmp_path: Path) -> None:
    path = _locked_copy(tmp_path)
    losses_kw, opened = _brute_force(path)
    assert set(opened) == {"swt1", "swt2", "swt3"}
    result = solve_three_phase(str(path), time_limit_s=60)
    assert "sw32" not in result.open_switches
    assert set(result.open_switches) == set(opened)
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(losses_kw, abs=0.01)
    assert any("Line.sw32 is locked by SwtControl.hold_sw32" in n for n in result.notes)
