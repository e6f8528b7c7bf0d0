"""A load on a node that no line or transformer connects to a source is a typed problem naming
the load and its bus or phase, exit 2, in ``info``, ``solve`` and ``partition`` (user test
ut_3ph, finding 2: ``info`` crashed in the LinDist3Flow power flow, exit 1, and ``solve``
said "no radial topology feeds every load", exit 3, naming nothing).

OpenDSS accepts these files and solves them with the cut-off node dead: every test first
checks that on OpenDSS's own solution (the node below 0.1 p.u., the load drawing nothing)
while the rest of the feeder is supplied. A load cut off only by a normally open switch is no
problem (reconfiguration may close it): OpenDSS, with the switch closed, supplies it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from opendss_plain import plain_solution

runner = CliRunner()

#: ``src - b1`` (3 phases), a phase-a lateral ``b1 - s1``, and ``b2 - b3`` behind the normally
#: open ``tie`` (``Open Line.tie 1``); ``{extra}`` adds the element under test.
FEEDER = """Clear
New Circuit.sup basekv=12.47 pu=1.0 phases=3 bus1=src
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.1 x1=0.2 r0=0.3 x0=0.6 c1=0 c0=0 length=1 units=km
New Line.lat phases=1 bus1=b1.1 bus2=s1.1 r1=0.1 x1=0.2 r0=0.3 x0=0.6 c1=0 c0=0 length=1 units=km
New Line.tie phases=3 bus1=b1 bus2=b2 switch=y
Open Line.tie 1
New Line.l2 phases=3 bus1=b2 bus2=b3 r1=0.1 x1=0.2 r0=0.3 x0=0.6 c1=0 c0=0 length=1 units=km
New Load.d1 bus1=b1 phases=3 kV=12.47 kW=100 kvar=50 model=1
New Load.s bus1=s1.1 phases=1 kV=7.2 kW=50 kvar=20 model=1
New Load.d3 bus1=b3 phases=3 kV=12.47 kW=100 kvar=50 model=1
{extra}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
V_LN = 12470 / math.sqrt(3)

CASES = {
    # a load on a bus that nothing connects
    "island": ("New Load.l7 bus1=island.3 phases=1 kV=7.2 kW=20 kvar=5 model=1",
               "l7", ["island.3"], ProblemKind.ISLAND_WITHOUT_SOURCE, "bus",
               "Load.l7 is on bus island, which no line or transformer connects to a source"),
    # a line and a load, neither connected to the feeder
    "isolated_line": ("New Line.iso1 phases=3 bus1=x1 bus2=x2 r1=0.1 x1=0.2 length=1 units=km\n"
                      "New Load.liso bus1=x2 phases=3 kV=12.47 kW=30 kvar=10 model=1",
                      "liso", ["x2.1", "x2.2", "x2.3"], ProblemKind.ISLAND_WITHOUT_SOURCE,
                      "bus", "Load.liso is on bus x2, which no line"),
    # phase b of the phase-a lateral's bus: OpenDSS makes node s1.2 for the load
    "phase": ("New Load.l3 bus1=s1.2 phases=1 kV=7.2 kW=20 kvar=5 model=1",
              "l3", ["s1.2"], ProblemKind.INVALID_VALUE, "phase",
              "Load.l3 uses phase b (node 2) of bus s1, which no line or transformer supplies: "
              "bus s1 has only phase a (node 1)"),
    # a delta load across phases a and b of the phase-a lateral's bus (OpenDSS: node s1.2
    # floats at s1.1's voltage through the load, which draws nothing)
    "delta_phase": ("New Load.l4 bus1=s1.1.2 phases=1 conn=delta kV=12.47 kW=20 kvar=5 model=1",
                    "l4", [], ProblemKind.INVALID_VALUE, "phase",
                    "Load.l4 uses phase b (node 2) of bus s1"),
}


def _opendss(tmp_path: Path, extra: str) -> tuple[dict[str, float], dict[str, float]]:
    """OpenDSS's solution of the feeder with ``extra``, the tie closed: |V| [p.u.] by node
    and each load's kW."""
    _, volts, loads = plain_solution(FEEDER.format(extra=extra) + "close Line.tie 1\nSolve\n",
                                     tmp_path)
    return {k: abs(v) / V_LN for k, v in volts.items() if not k.endswith(".0")}, loads


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_load_on_an_unsupplied_node_is_named(tmp_path: Path, case: str) -> None:
    from feederopt.io.opendss import read_opendss

    extra, load, dead, kind, field, text = CASES[case]
    volts, kw = _opendss(tmp_path, extra)
    assert all(volts[n] < 0.1 for n in dead) and abs(kw[load]) < 1e-6  # OpenDSS: dead
    live = [n for n in volts if n.split(".")[0] in ("src", "b1", "b2", "b3") or n == "s1.1"]
    assert min(volts[n] for n in live) > 0.95  # the feeder itself is supplied
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(extra=extra))
    net = read_opendss(path)
    problems = net.validate()
    assert len(problems) == 1, problems
    (p,) = problems
    assert (p.kind, p.component, p.ids, p.field) == (kind, "loads", (load,), field)
    assert text in p.message and p.hint
    for command in (["info", str(path), "--json"],
                    ["solve", str(path), "--time-limit", "10"],
                    ["partition", str(path), "--time-limit", "10", "--samples", "1",
                     "--out", str(tmp_path / "out")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        assert "Traceback" not in result.output and text in " ".join(result.output.split())
    with pytest.raises(InputError):
        net.check()


def test_a_load_behind_a_normally_open_switch_is_no_problem(tmp_path: Path) -> None:
    """``d3`` at ``b3`` is cut off only by the open ``tie``: closed, OpenDSS supplies it, and
    the reader finds nothing wrong with the feeder."""
    from feederopt.io.opendss import read_opendss

    volts, kw = _opendss(tmp_path, "")
    assert min(volts[f"b3.{k}"] for k in (1, 2, 3)) > 0.95
    assert kw["d3"] == pytest.approx(100.0, rel=1e-4)
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(extra=""))
    net = read_opendss(path)
    assert net.validate() == []


def test_info_of_a_base_case_with_a_load_cut_off_by_an_open_switch(tmp_path: Path) -> None:
    """``info`` on that feeder (the tie open in the base case, ``d3`` dead): exit 0 with
    OpenDSS's base-case losses (its own solve of the file, ``Circuit.Losses``), a note naming
    the cut-off load, and no LinDist3Flow comparison (its power flow feeds every load; it
    crashed, exit 1, "HiGHS status infeasible")."""
    plain_solution(FEEDER.format(extra=""), tmp_path)
    losses_kw = float(dss.Circuit.Losses()[0]) / 1000
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(extra=""))
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["problems"] == [] and info["base_converged"]
    assert info["base_losses_kw"] == pytest.approx(losses_kw, rel=1e-6)
    assert info["lindist3flow_max_voltage_error_pu"] is None
    assert any("cut 1 load(s)" in w and "Load.d3" in w for w in info["warnings"])


def test_a_misspelt_bus_name_is_suggested(tmp_path: Path) -> None:
    """A line's ``Bus2`` misspelt (``b1x`` for ``b1``) makes a dead-end bus and cuts the bus it
    meant off; the problem (the only path to ``b1``) and the base-case note (``b3`` behind a
    second tie) name the dead-end bus and the line (session 28's note: the typo was said only
    through its consequences). OpenDSS solves the misspelt file with the loads dead. The plain
    feeder gets no such hint."""
    from feederopt.io.opendss import read_opendss

    only_path = FEEDER.format(extra="").replace("bus1=src bus2=b1 ", "bus1=src bus2=b1x ")
    _, volts, kw = plain_solution(only_path, tmp_path)
    assert kw["d1"] == pytest.approx(0.0, abs=1e-6)  # OpenDSS: b1 dead
    assert abs(volts["b1x.1"]) / V_LN > 0.95  # the misspelt bus is live
    path = tmp_path / "feeder.dss"
    path.write_text(only_path)
    hints = " ".join(p.hint for p in read_opendss(path).validate())
    assert "bus b1x ends Line.l1 and carries nothing: a misspelling of b1?" in hints
    tie2 = "New Line.tie2 phases=3 bus1=b1 bus2=b3 switch=y\nOpen Line.tie2 1"
    behind_tie = FEEDER.format(extra=tie2).replace("bus1=b2 bus2=b3 ", "bus1=b2 bus2=b3x ")
    path.write_text(behind_tie)
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["warnings"]
    assert any("Load.d3" in w and "bus b3x ends Line.l2" in w for w in notes), notes
    path.write_text(FEEDER.format(extra=""))
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert "misspelling" not in result.stdout
