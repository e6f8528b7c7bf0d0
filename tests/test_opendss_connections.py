"""The OpenDSS reader takes each element's connections from OpenDSS (``CktElement.NodeOrder``),
not from the node suffixes the file writes (audit defect D7): a 1-phase delta load that names
one node (IEEE 34's ``Bus1=832.1 Phases=1 Conn=Delta``) is phase to ground, as OpenDSS
connects it; a 3-phase line whose bus2 names two nodes (EPRI ckt24's ``bus2=N292743.1.2``) is
connected on all three phases, as OpenDSS fills the spec; what the model cannot represent is
a typed problem naming the element. The inputs are small edits of the built-in IEEE 13."""

from __future__ import annotations

import os
import re
from pathlib import Path

import opendssdirect as dss
import pytest

from feederopt.api_threephase import three_phase_info
from feederopt.cases.threephase import three_phase_case_path
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.opendss import _spec_nodes, read_opendss
from opendss_plain import converged_losses_kw

#: IEEE 13's command before which elements are added (the end of the element definitions).
ANCHOR = "Set Voltagebases=[115, 4.16, .48]"


def _ieee13_with(tmp_path: Path, name: str, added: str = "", *,
                 replace: tuple[str, str] | None = None) -> Path:
    """A copy of the built-in IEEE 13 with ``added`` elements defined before its voltage
    bases (so its own ``Solve`` is the solution), and one text replacement. Its switches get
    OpenDSS's own ``Switch=y`` impedance instead of zero, so that OpenDSS solves the file as
    written (the reader repairs zero-impedance switches; the check here is OpenDSS alone)."""
    text = three_phase_case_path("ieee13").read_text()
    text, n = re.subn(r"r1=0 r0=0 x1=0(\.0+)? x0=0(\.0+)? c1=0(\.0+)? c0=0(\.0+)?", "", text)
    assert n == 6
    assert ANCHOR in text
    text = text.replace(ANCHOR, added + "\n" + ANCHOR)
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / f"{name}.dss"
    path.write_text(text)
    return path


def _opendss_losses_kw(path: Path) -> float:
    """OpenDSS's own circuit losses for the file, its script's solve continued to 1e-9 at the
    taps it reached (controls off): info's base case is solve's, solved once more after the
    file's own solve, which stops within the file's tolerance (user test ut46_dss3 #5)."""
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
        return converged_losses_kw()
    finally:
        os.chdir(cwd)


def _rows(table: object, col: str, value: str) -> list[dict]:
    import polars as pl

    assert isinstance(table, pl.DataFrame)
    return table.filter(pl.col(col) == value).sort(table.columns).to_dicts()


# ---- 1-phase delta loads ------------------------------------------------------------------


DELTA_ONE_NODE = "New Load.dg Bus1=632.1 Phases=1 Conn=Delta Model=2 kV=4.16 kW=600 kvar=300"
WYE_SAME = "New Load.dg Bus1=632.1 Phases=1 Conn=Wye Model=2 kV=4.16 kW=600 kvar=300"
DELTA_TWO_NODES = "New Load.dd Bus1=632.1.2 Phases=1 Conn=Delta Model=1 kV=4.16 kW=300 kvar=100"


def test_one_node_delta_load_is_phase_to_ground_as_opendss_connects_it(tmp_path: Path) -> None:
    path = _ieee13_with(tmp_path, "delta1", DELTA_ONE_NODE)
    net = read_opendss(path)
    rows = _rows(net.loads, "id", "dg")
    assert [(r["conn"], r["phase"], r["vn_kv"], r["p_mw"]) for r in rows] == [
        ("wye", "a", 4.16, 0.6)]
    assert any("phase to ground" in w and "dg" in w for w in net.meta["warnings"])
    # OpenDSS solves the same circuit as the load written as wye to ground, at its kV rating,
    # and the model is that circuit's: same losses, same LinDist3Flow error.
    info = three_phase_info(path)
    same = three_phase_info(_ieee13_with(tmp_path, "wye1", WYE_SAME))
    assert info["problems"] == []
    assert info["base_losses_kw"] == pytest.approx(_opendss_losses_kw(path), abs=0.01)
    assert info["base_losses_kw"] == pytest.approx(same["base_losses_kw"], rel=1e-9)
    assert info["lindist3flow_max_voltage_error_pu"] == pytest.approx(
        same["lindist3flow_max_voltage_error_pu"], rel=1e-9)
    # the 600 kW load on phase a is seen by both: the feeder's losses grow with it
    base = three_phase_info(_ieee13_with(tmp_path, "plain"))
    assert info["base_losses_kw"] > base["base_losses_kw"] + 1.0
    # by the file's nameplate (info's load_mw_by_phase is the model's draw, which re-rates a
    # load that OpenDSS's solution puts outside its band: tests/test_opendss_band_edge.py)
    def phase_a(p: Path) -> float:
        loads = read_opendss(p).nameplate_band_loads().loads
        return float(loads.filter((loads["phase"] == "a") & loads["in_service"])["p_mw"].sum())

    assert phase_a(path) == pytest.approx(phase_a(_ieee13_with(tmp_path, "plain")) + 0.6)


def test_two_node_delta_load_is_phase_to_phase(tmp_path: Path) -> None:
    path = _ieee13_with(tmp_path, "delta2", DELTA_TWO_NODES)
    net = read_opendss(path)
    rows = _rows(net.loads, "id", "dd")
    assert [(r["conn"], r["phase"], r["vn_kv"]) for r in rows] == [("delta", "ab", 4.16)]
    info = three_phase_info(path)
    assert info["problems"] == []
    assert info["base_losses_kw"] == pytest.approx(_opendss_losses_kw(path), abs=0.01)


def test_disabled_delta_load_gets_opendss_connection_too(tmp_path: Path) -> None:
    """A disabled element has no OpenDSS connection to report; its nodes follow OpenDSS's
    rule for the spec, so it reads the same as when enabled (and stays out of service)."""
    path = _ieee13_with(tmp_path, "off", DELTA_ONE_NODE + " enabled=no")
    rows = _rows(read_opendss(path).loads, "id", "dg")
    assert [(r["conn"], r["phase"], r["in_service"]) for r in rows] == [("wye", "a", False)]


def _only_problem(path: Path) -> Problem:
    """The one problem reading ``path`` raises."""
    with pytest.raises(InputError) as err:
        read_opendss(path)
    (problem,) = err.value.problems
    return problem


def test_two_phase_delta_load_is_a_typed_problem(tmp_path: Path) -> None:
    path = _ieee13_with(tmp_path, "open_delta", "New Load.od Bus1=671.1.2.3 Phases=2 "
                        "Conn=Delta kV=4.16 kW=100 kvar=50")
    problem = _only_problem(path)
    assert problem.kind == ProblemKind.BAD_LOAD
    assert problem.ids == ("od",)
    assert "Load.od" in problem.message and "[1, 2, 3]" in problem.message


# ---- lines ----------------------------------------------------------------------------------


def test_three_phase_line_with_two_node_bus2_is_connected_on_three_phases(
        tmp_path: Path) -> None:
    """``Bus2=633.1.2`` on a 3-phase line: OpenDSS connects nodes 1, 2, 3, the circuit is
    IEEE 13 itself, and so must the model be."""
    path = _ieee13_with(tmp_path, "bus2_two_nodes", replace=(
        "Bus1=632.1.2.3    Bus2=633.1.2.3", "Bus1=632.1.2.3    Bus2=633.1.2"))
    net = read_opendss(path)
    (line,) = _rows(net.lines, "id", "632633")
    assert line["phases"] == "abc"
    assert _rows(net.buses, "id", "633")[0]["phases"] == "abc"
    info = three_phase_info(path)
    base = three_phase_info(_ieee13_with(tmp_path, "plain"))
    assert info["problems"] == []
    assert info["base_losses_kw"] == pytest.approx(_opendss_losses_kw(path), abs=0.01)
    for key in ("base_losses_kw", "lindist3flow_max_voltage_error_pu", "phases", "buses"):
        assert info[key] == pytest.approx(base[key], rel=1e-9), key


def test_line_with_different_phases_at_its_ends_is_a_typed_problem(tmp_path: Path) -> None:
    """OpenDSS accepts a line that crosses its phases (``684.1.3`` to ``684.3.1``); the model
    has one phase set per line, so the line is refused by name."""
    path = _ieee13_with(tmp_path, "crossed", replace=(
        "Bus1=671.1.3      Bus2=684.1.3", "Bus1=671.1.3      Bus2=684.3.1"))
    problem = _only_problem(path)
    assert problem.kind == ProblemKind.INVALID_VALUE
    assert problem.ids == ("671684",)
    assert "Line.671684" in problem.message and "[3, 1]" in problem.message


# ---- the spec rule for disabled elements ------------------------------------------------------


def test_spec_rule_matches_opendss_node_order(tmp_path: Path) -> None:
    """:func:`_spec_nodes` (used for disabled elements) gives what OpenDSS connects, on every
    enabled element of IEEE 13 with the forms above added."""
    path = _ieee13_with(tmp_path, "all", "\n".join([
        DELTA_ONE_NODE, DELTA_TWO_NODES,
        "New Load.w4 Bus1=633.1.2.3.4 Phases=3 kV=4.16 kW=30",
        "New Line.extra Phases=3 Bus1=680 Bus2=680x.2.1 LineCode=mtx601 Length=10 units=ft",
    ]))
    cwd = os.getcwd()
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'redirect "{path}"')
        checked = 0
        for element in dss.Circuit.AllElementNames():
            dss.Circuit.SetActiveElement(element)
            if not dss.CktElement.Enabled():
                continue  # not in OpenDSS's system: no NodeOrder (the tie switch)
            nc = int(dss.CktElement.NumConductors())
            nph = int(dss.CktElement.NumPhases())
            expected = [int(n) for n in dss.CktElement.NodeOrder()]
            got = [n for bus in dss.CktElement.BusNames() for n in _spec_nodes(bus, nph, nc)]
            assert got == expected, element
            checked += 1
        assert checked > 40
    finally:
        os.chdir(cwd)
