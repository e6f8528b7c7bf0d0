"""Restoration titles name the kind of the broken branch: a pandapower transformer is not a
"line" (user test ut49_recheck #2: "lines trafo:0 broken")."""
from __future__ import annotations

import pandapower as pp
import pandapower.networks as pn
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.results.resilience import broken_title


def test_broken_title_words() -> None:
    assert broken_title([], []) == "no line broken"
    assert broken_title(["7"], ["7"]) == "line 7 broken"
    assert broken_title(["7", "37"], ["7", "37"]) == "lines 7, 37 broken"
    assert broken_title(["trafo:0"], ["trafo:0"]) == "transformer trafo:0 broken"
    assert broken_title(["7", "trafo:0"], ["7", "trafo:0"]) == "branches 7, trafo:0 broken"


def test_restore_title_of_a_broken_transformer(tmp_path) -> None:
    net = pn.example_simple()
    path = tmp_path / "simple.json"
    pp.to_json(net, str(path))
    out = CliRunner().invoke(app, ["restore", str(path), "--broken", "trafo:0"])
    assert out.exit_code == 0, out.output
    title = out.output.splitlines()[0]
    assert "transformer trafo:0" in title
    assert "lines trafo:0" not in title


def test_report_rows_name_the_kinds(tmp_path) -> None:
    """The report's rows and the console's closed row (user test ut50_recheck #7: "broken
    lines: trafo:0", "closed lines" listing trafo:1): cigre_mv with its HV/MV transformer 0
    broken, as pandapower names its transformers (net.trafo)."""
    import json

    import pandapower.networks as pn

    from feederopt.report.resilience import restore_summary

    net = pn.create_cigre_network_mv(with_der=False)
    assert len(net.trafo) == 2  # trafo:0 and trafo:1, pandapower's two HV/MV transformers
    path = tmp_path / "cigre.json"
    pp.to_json(net, str(path))
    out = CliRunner().invoke(app, ["restore", str(path), "--broken", "trafo:0",
                                   "--json", str(tmp_path / "r.json")],
                             env={"COLUMNS": "300"})
    assert out.exit_code in (0, 4), out.output
    doc = json.loads((tmp_path / "r.json").read_text())
    closed = doc["operation"]["closed_lines"]
    rows = restore_summary(doc)
    assert "broken lines" not in rows and "trafo:0" in rows["broken transformers"]
    assert "trafo:1" in closed  # the other transformer feeds the grid
    assert "closed branches" in rows and "closed lines" not in rows
    assert "closed branches" in out.output
