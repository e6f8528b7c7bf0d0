"""Messages about a DER's nodes that send the user the right way (user test ut39_tph #1, #2).

1. A 1-phase unit whose second conductor is on a node that nothing else connects
   (``bus1=b3.2.4``) was read as a 0 kW phase-b generator with the note "its kV rating does
   not match its bus" - its kV (7.2) is the bus's line-to-neutral kV; the cause is the
   floating node 4. OpenDSS solves it at 0 kW (the node follows phase b's voltage), and with a
   low ``Vminpu`` it drives its current into the floating node and OpenDSS does not converge
   (ut39_tph's f_node4b.dss: 668 kW on the b3.4 terminal, the node at 2.1 p.u.): it is refused
   by name, and both ways of the hint (ground node 4; ``bus1=b3.2``) make OpenDSS run it at
   its kW.
2. A phase-to-phase unit on a bus lacking one of its phases (``bus1=b6.1.2 kV=12.47`` on a
   phase-a lateral) is refused; the hint said ``bus1=b6.1`` without a kV, and that unit at its
   12.47 kV runs at 39 % of its kW in OpenDSS. The hint gives the kV now; followed literally it
   makes OpenDSS run the unit (and a delta load alike) at its rating.

The truth is OpenDSS's own solve of each script (opendssdirect)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss

runner = CliRunner()

#: user test ut39_tph's f1.dss without its DERs; ``{der}`` adds the element under test
FEEDER = """Clear
New Circuit.f1 basekv=12.47 pu=1.02 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft normamps=400
New Linecode.c1 nphases=1 rmatrix=[0.40] xmatrix=[0.62] units=kft normamps=150
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=3 units=kft
New Line.l3 bus1=b1 bus2=b3 linecode=c3 length=4 units=kft
New Line.l4 bus1=b1 bus2=b4 linecode=c3 length=5 units=kft
New Line.lat1 bus1=b4.1 bus2=b6.1 phases=1 linecode=c1 length=3 units=kft
New Load.ld3 bus1=b3 phases=3 kV=12.47 kW=900 kvar=300
New Load.ld6 bus1=b6.1 phases=1 kV=7.2 kW=200 kvar=70
New Load.ld4 bus1=b4 phases=3 kV=12.47 kW=450 kvar=150
{der}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""
FLOATING = "New Generator.gx phases=1 bus1=b3.2.4 kV=7.2 kW=100"


def _write(tmp_path: Path, der: str, name: str = "f.dss") -> Path:
    path = tmp_path / name
    path.write_text(FEEDER.format(der=der))
    return path


def _opendss(path: Path, element: str) -> tuple[bool, float, dict[int, float]]:
    """OpenDSS's own solve: converged, the element's output [kW] (its terminal powers
    negated) and |V| [p.u.] of bus b3's nodes."""
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    dss.Solution.Solve()
    dss.Circuit.SetActiveElement(element)
    out_kw = -float(np.sum(np.asarray(dss.CktElement.Powers(), float)[0::2]))
    dss.Circuit.SetActiveBus("b3")
    mags = np.asarray(dss.Bus.puVmagAngle(), float)[0::2]
    return bool(dss.Solution.Converged()), out_kw, dict(
        zip(dss.Bus.Nodes(), mags.tolist(), strict=True))


def _refusal(path: Path) -> str:
    with pytest.raises(InputError) as err:
        read_opendss(path)
    (p,) = [p for p in err.value.problems if "gx" in p.ids]
    assert (p.kind, p.component, p.field) == (ProblemKind.INVALID_VALUE, "generators", "bus1")
    return f"{p.message} (hint: {p.hint})"


def test_opendss_gives_the_floating_unit_nothing(tmp_path: Path) -> None:
    """The premise: kV=7.2 is the bus's line-to-neutral kV, the unit produces nothing because
    node 4 floats with phase b, and with a low Vminpu OpenDSS does not converge."""
    converged, kw, v = _opendss(_write(tmp_path, FLOATING), "Generator.gx")
    assert converged and abs(kw) < 1e-6
    assert abs(v[4] - v[2]) < 1e-6 and v[2] > 0.95  # node 4 follows phase b
    converged, _, _ = _opendss(_write(tmp_path, FLOATING + " Vminpu=0.01", "b.dss"),
                               "Generator.gx")
    assert not converged  # a constant-power unit driving a floating node: no solution


@pytest.mark.parametrize("vmin", ["", " Vminpu=0.01"])
def test_a_unit_on_a_floating_node_is_refused_by_name(tmp_path: Path, vmin: str) -> None:
    path = _write(tmp_path, FLOATING + vmin)
    text = _refusal(path)
    assert "Generator.gx" in text and "node 4 of bus b3" in text
    assert "nothing connects to ground or a phase" in text and "kV rating" not in text
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "node 4 of bus b3" in " ".join(
        result.output.split())


def test_a_two_phase_unit_on_a_floating_neutral_is_refused(tmp_path: Path) -> None:
    """OpenDSS runs its two halves in series between phases a and b: unequal phase outputs,
    where the model's grounded wye would split them equally."""
    path = _write(tmp_path, "New Generator.gx phases=2 bus1=b3.1.2.4 kV=12.47 kW=100")
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    dss.Circuit.SetActiveElement("Generator.gx")
    p = -np.asarray(dss.CktElement.Powers(), float)[0::2]
    assert abs(p[0] - p[1]) > 10  # kW: not the equal halves of a grounded wye
    text = _refusal(path)
    assert "neutral conductor on node 4 of bus b3" in text and "bus1=b3.1.2 kV=12.47" in text


def test_both_fixes_of_the_hint_make_opendss_run_the_unit(tmp_path: Path) -> None:
    hint = _refusal(_write(tmp_path, FLOATING)).split("(hint: ", 1)[1]
    spec = re.search(r"bus1=(\S+) kV=([0-9.]+)", hint)
    assert spec is not None and "ground node 4" in hint
    # phase to ground as the hint gives it
    moved = _write(tmp_path, f"New Generator.gx phases=1 bus1={spec[1]} kV={spec[2]} kW=100",
                   "moved.dss")
    converged, kw, _ = _opendss(moved, "Generator.gx")
    assert converged and abs(kw - 100) < 1.0
    read_opendss(moved)  # accepted
    # node 4 grounded (through a small resistance)
    grounded = _write(tmp_path, FLOATING + "\nNew Reactor.gnd phases=1 bus1=b3.4 R=0.001 X=0",
                      "grounded.dss")
    converged, kw, _ = _opendss(grounded, "Generator.gx")
    assert converged and abs(kw - 100) < 1.0
    net = read_opendss(grounded)
    assert net.generators.filter(net.generators["id"] == "Generator.gx")["p_mw"].item() * 1000 \
        == pytest.approx(100, abs=1.0)


@pytest.mark.parametrize(("element", "name"), [
    ("New Generator.g6 phases=1 bus1=b6.1.2 kV=12.47 kW=100", "Generator.g6"),
    ("New Load.d6 phases=1 bus1=b6.1.2 conn=delta kV=12.47 kW=100 kvar=30", "Load.d6"),
])
def test_the_missing_phase_hint_gives_the_kv_the_moved_element_needs(
        tmp_path: Path, element: str, name: str) -> None:
    path = _write(tmp_path, element)
    problems = read_opendss(path).validate()
    (p,) = [p for p in problems if name in p.message]
    spec = re.search(r"\(OpenDSS: ([^)]*)\)", p.hint)
    assert spec is not None, p.hint
    # the element as the hint has it: each property the hint gives replaced, the rest kept
    given = dict(w.split("=", 1) for w in spec[1].lower().split())
    rest = element.split()[2:]
    cls_name = element.split()[1]
    kept = " ".join(w for w in rest if w.split("=", 1)[0].lower() not in given)
    fixed = " ".join(f"{k}={v}" for k, v in given.items())
    moved = _write(tmp_path, f"New {cls_name} {fixed} {kept}", "moved.dss")
    converged, kw, _ = _opendss(moved, name)
    # OpenDSS runs the element at its rating (a load draws its kW: -kW out); at 12.47 kV on
    # one phase it ran the unit at 40 kW and the load at 33 kW
    assert converged and abs(abs(kw) - 100) < 1.0, (fixed, kept, kw)
    assert read_opendss(moved).validate() == []
