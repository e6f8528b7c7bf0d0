"""A part of a feeder that a disabled or open element cuts off the source is one problem per
island naming that element, the island's buses and its loads (user test ut36_errs #2: IEEE 13
with ``Line.632670`` ``enabled=n`` gave 26 ``island_without_source`` problems, one per element
downstream, each blaming the real dead end 680 as "a misspelling of 650?", and none named
``Line.632670``).

Truth is OpenDSS's own solve of each file: the island's nodes have no voltage and its loads draw
nothing, while the rest of the feeder is supplied. A disabled switch is no problem: the model
reads it normally open, reconfiguration may close it, and ``info``'s note names it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from feederopt.errors import ProblemKind
from feederopt.io.opendss import read_opendss
from opendss_plain import plain_solution

runner = CliRunner()

#: ``src - 632`` and, cut by the element under test, ``632 - 670 - 671`` with the dead end
#: ``671 - 680`` (IEEE 13's names: 680 reads as "a misspelling of 670"); a transformer
#: ``632 - 634`` feeds a second part. ``{line}`` and ``{tr}`` complete Line.632670 and
#: Transformer.xfm1; ``{extra}`` comes before the solve.
FEEDER = """Clear
New Circuit.cut basekv=4.16 pu=1.0 phases=3 bus1=src
New Linecode.lc nphases=3 r1=0.1 x1=0.2 r0=0.3 x0=0.6 c1=0 c0=0 units=km
New Line.src632 phases=3 bus1=src bus2=632 linecode=lc length=1 units=km
New Line.632670 phases=3 bus1=632 bus2=670 linecode=lc length=1 units=km {line}
New Line.670671 phases=3 bus1=670 bus2=671 linecode=lc length=1 units=km
New Line.671680 phases=3 bus1=671 bus2=680 linecode=lc length=1 units=km
New Transformer.xfm1 phases=3 windings=2 xhl=2 buses=[632 634] conns=[wye wye] kvs=[4.16 0.48]
~ kvas=[500 500] %rs=[0.5 0.5] {tr}
New Load.670a bus1=670.1 phases=1 kV=2.4 kW=20 kvar=10 model=1
New Load.671 bus1=671 phases=3 kV=4.16 kW=300 kvar=100 model=1
New Capacitor.cap1 bus1=671 phases=3 kvar=100 kV=4.16
New Load.634 bus1=634 phases=3 kV=0.48 kW=100 kvar=30 model=1
New Load.632 bus1=632 phases=3 kV=4.16 kW=100 kvar=30 model=1
{extra}
Set VoltageBases=[4.16 0.48]
CalcVoltageBases
Solve
"""
ISLAND = ["670", "671", "680"]  # behind Line.632670
BEHIND_TR = ["634"]  # behind Transformer.xfm1

CASES = {
    # name: (line, tr, extra, the islands: (element named, its component and id, buses, loads))
    "line_disabled": ("enabled=n", "", "", [
        ("Line.632670 (disabled: enabled=no)", "lines", "632670", ISLAND,
         ["Load.670a", "Load.671", "Capacitor.cap1"])]),
    "line_open": ("", "", "Open Line.632670 term=1", [
        ("Line.632670 (open at terminal 1: Open Line.632670 term=1)", "lines", "632670",
         ISLAND, ["Load.670a", "Load.671", "Capacitor.cap1"])]),
    "transformer_disabled": ("", "enabled=n", "", [
        ("Transformer.xfm1 (disabled: enabled=no)", "transformers", "xfm1", BEHIND_TR,
         ["Load.634"])]),
    "transformer_open": ("", "", "Open Transformer.xfm1 term=2", [
        ("Transformer.xfm1 (open at terminal 2: Open Transformer.xfm1 term=2)",
         "transformers", "xfm1", BEHIND_TR, ["Load.634"])]),
    "two_islands": ("enabled=n", "enabled=n", "", [
        ("Line.632670 (disabled: enabled=no)", "lines", "632670", ISLAND,
         ["Load.670a", "Load.671", "Capacitor.cap1"]),
        ("Transformer.xfm1 (disabled: enabled=no)", "transformers", "xfm1", BEHIND_TR,
         ["Load.634"])]),
}


def _check_opendss_leaves_dead(script: str, dead: list[str], tmp_path: Path) -> None:
    """OpenDSS's solve of ``script``: every node of the ``dead`` buses below 0.01 p.u., the
    loads there drawing nothing, the source's bus 632 at its voltage."""
    _, volts, kw = plain_solution(script, tmp_path)
    base = {b: (480 if b == "634" else 4160) / math.sqrt(3) for b in ("632", "634", "670",
                                                                      "671", "680")}
    for node, v in volts.items():
        bus, _, k = node.partition(".")
        if bus in dead and k != "0":
            assert abs(v) / base[bus] < 0.01, node
    assert all(abs(v) / base["632"] > 0.95 for n, v in volts.items()
               if n.startswith("632.") and not n.endswith(".0"))
    for load in ("670a", "671", "634"):
        if ("670" if load == "670a" else load) in dead:
            assert abs(kw[load]) < 1e-6, load


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_an_island_cut_by_a_disabled_or_open_element_names_it(tmp_path: Path,
                                                              case: str) -> None:
    line, tr, extra, islands = CASES[case]
    script = FEEDER.format(line=line, tr=tr, extra=extra)
    _check_opendss_leaves_dead(script, [b for i in islands for b in i[3]], tmp_path)
    path = tmp_path / "feeder.dss"
    path.write_text(script)
    problems = read_opendss(path).validate()
    assert len(problems) == len(islands), problems  # one per island
    for p, (named, component, eid, buses, loads) in zip(problems, islands, strict=True):
        assert p.kind is ProblemKind.ISLAND_WITHOUT_SOURCE
        assert (p.component, p.ids) == (component, (eid,))
        assert named in p.message
        assert f"{len(buses)} bus(es) off the source ({', '.join(buses)})" in p.message
        assert f"{len(loads)} load(s)" in p.message and all(x in p.message for x in loads)
        fix = "enable" if "enabled=no" in named else "close"
        assert p.hint.startswith(f"{fix} {named.split(' ')[0]}")
        assert "misspelling" not in p.hint + p.message
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert text.count("island_without_source") == len(islands)
    assert all(named in text for named, *_ in islands)


def test_ieee13_with_line_632670_disabled_is_one_problem_naming_it(tmp_path: Path) -> None:
    """The user test's file: IEEE 13 (PowerModelsONM's, with its microgrid lines) with
    ``Line.632670 enabled=n``; OpenDSS solves 670 and everything behind it at 0 V."""
    text = three_phase_case_path("ieee13").read_text()
    head = "New Line.632670    Phases=3 Bus1=632.1.2.3    Bus2=670.1.2.3  LineCode=mtx601"
    assert head in text
    path = tmp_path / "cut.dss"
    path.write_text(text.replace(head, head.replace("LineCode", "enabled=n LineCode")))
    from feederopt.io.opendss import compile_circuit

    compile_circuit(path)  # OpenDSS's solve (its zero-impedance switches repaired)
    import opendssdirect as dss

    for bus in ("670", "671", "675", "680", "692", "700", "801"):
        dss.Circuit.SetActiveBus(bus)
        assert max(dss.Bus.puVmagAngle()[0::2]) < 0.01, bus
    dss.Circuit.SetActiveBus("632")
    assert min(dss.Bus.puVmagAngle()[0::2]) > 0.95
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "1 problem in the input" in text
    assert "island_without_source: lines [632670].in_service: Line.632670 (disabled: " \
        "enabled=no) cuts 16 bus(es) off the source" in text
    assert "hint: enable Line.632670 (enabled=yes)" in text
    assert "misspelling" not in text


def test_a_disabled_switch_is_normally_open_and_named_in_the_note(tmp_path: Path) -> None:
    """``Line.632670 switch=y enabled=n``: reconfiguration may close it, so ``info`` reads the
    file (exit 0) and its note on the base case names the switch, with no misspelling hint
    for the dead end 680 that it cuts off with 670 (it said "a misspelling of 670?")."""
    script = FEEDER.format(line="switch=y enabled=n", tr="", extra="")
    _check_opendss_leaves_dead(script, ISLAND, tmp_path)
    path = tmp_path / "feeder.dss"
    path.write_text(script)
    assert read_opendss(path).validate() == []
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "the base case's open switches (Line.632670) cut 2 load(s)" in text
    assert "misspelling" not in text


def test_a_disabled_series_reactor_the_reader_leaves_out_is_named(tmp_path: Path) -> None:
    """A disabled series reactor is left out of the tables (a note says so); the reader's
    record (``meta["out_of_service"]``) still names it as what cuts 670 off."""
    line = "New Line.632670 phases=3 bus1=632 bus2=670 linecode=lc length=1 units=km {line}"
    script = FEEDER.replace(line, "New Reactor.r1 phases=3 bus1=632 bus2=670 r=0.1 x=0.5 "
                            "enabled=n").format(tr="", extra="")
    _check_opendss_leaves_dead(script, ISLAND, tmp_path)
    path = tmp_path / "feeder.dss"
    path.write_text(script)
    (p,) = read_opendss(path).validate()
    assert (p.kind, p.component, p.ids) == (ProblemKind.ISLAND_WITHOUT_SOURCE, "reactor",
                                            ("r1",))
    assert "Reactor.r1 (disabled: enabled=no) cuts 3 bus(es) off the source (670, 671, 680)" \
        in p.message
    assert p.hint.startswith("enable Reactor.r1 (enabled=yes)")
