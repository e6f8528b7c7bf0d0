"""Series capacitors and reactors are rated in OpenDSS's check like the lines.

The reader takes a series ``Capacitor`` or ``Reactor`` (``bus2`` another bus) as a line of
the model rated by its ``NormAmps``, and LinDist3Flow holds that rating; OpenDSS's check read
the currents of ``Line`` elements only, so an overloaded series element was never in its
loadings or overloads, and a solve whose answer overloads one passed the check. Now they are
in them by OpenDSS's name (``Capacitor.sc``, ``Reactor.sr``). Truth: opendssdirect's own
current in the element and its ``NormAmps``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.io.opendss import read_opendss
from feederopt.validation.opendss import solve_opendss

FEEDER = """Clear
New Circuit.sr basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft normamps=400
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Capacitor.sc bus1=b1 bus2=b2 phases=3 kvar=30000 kV=12.47 normamps={cap_amps}
New Line.l2 bus1=b2 bus2=b3 linecode=c3 length=2 units=kft
New Reactor.sr bus1=b3 bus2=b4 phases=3 R=0.05 X=0.4 normamps={reactor_amps}
New Line.l3 bus1=b4 bus2=b5 linecode=c3 length=2 units=kft
New Load.ld bus1=b5 phases=3 kV=12.47 kW=2000 kvar=600
Set VoltageBases=[12.47]
CalcVoltageBases
Set ControlMode=OFF
Solve
"""
runner = CliRunner()


def _write(tmp_path: Path, cap_amps: float, reactor_amps: float) -> Path:
    path = tmp_path / "series.dss"
    path.write_text(FEEDER.format(cap_amps=cap_amps, reactor_amps=reactor_amps))
    return path


def _opendss_amps(path: Path, element: str) -> tuple[float, float]:
    """OpenDSS's own largest phase-conductor current of ``element`` and its NormAmps."""
    dss.Text.Command("clear")
    dss.Text.Command(f'compile "{path}"')
    assert dss.Solution.Converged()
    dss.Circuit.SetActiveElement(element)
    n, nc = dss.CktElement.NumPhases(), dss.CktElement.NumConductors()
    mags = np.asarray(dss.CktElement.CurrentsMagAng(), float)[0::2]
    return (max(float(mags[t * nc + c]) for t in range(2) for c in range(n)),
            float(dss.CktElement.NormalAmps()))


def test_check_rates_series_capacitor_and_reactor(tmp_path: Path) -> None:
    path = _write(tmp_path, cap_amps=80, reactor_amps=85)
    cap_amps, cap_rating = _opendss_amps(path, "Capacitor.sc")
    rx_amps, rx_rating = _opendss_amps(path, "Reactor.sr")
    # the truth: both carry about 97 A, above their NormAmps
    assert cap_rating == pytest.approx(80) and rx_rating == pytest.approx(85)
    assert cap_amps > cap_rating and rx_amps > rx_rating

    net = read_opendss(path)
    sol = solve_opendss(net, with_controls=False)
    over = {e: (pct, amps, rating) for e, pct, amps, rating in sol.overloads}
    assert set(over) == {"Capacitor.sc", "Reactor.sr"}
    for element, amps, rating in (("Capacitor.sc", cap_amps, cap_rating),
                                  ("Reactor.sr", rx_amps, rx_rating)):
        pct, got_amps, got_rating = over[element]
        assert got_amps == pytest.approx(amps, rel=1e-6)
        assert got_rating == pytest.approx(rating)
        assert pct == pytest.approx(100 * amps / rating, rel=1e-6)
    assert not sol.within_thermal_limits
    assert sol.loadings["Line.l1"] < 100  # the lines as before


def test_series_elements_within_rating_pass(tmp_path: Path) -> None:
    path = _write(tmp_path, cap_amps=200, reactor_amps=200)
    cap_amps, _ = _opendss_amps(path, "Capacitor.sc")
    sol = solve_opendss(read_opendss(path), with_controls=False)
    assert sol.within_thermal_limits
    assert sol.loadings["Capacitor.sc"] == pytest.approx(100 * cap_amps / 200, rel=1e-6)
    assert "Reactor.sr" in sol.loadings


def test_solve_names_the_overloaded_series_capacitor(tmp_path: Path) -> None:
    """End to end: the feeder has no switch, so the capacitor is a bridge whose overload no
    switching relieves; the solve exits 4 (limits broken in OpenDSS) naming it, where it
    exited 0 with the check passed."""
    path = _write(tmp_path, cap_amps=80, reactor_amps=200)
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(path), "--json", str(out)])
    assert res.exit_code == 4, res.output
    data = json.loads(out.read_text())
    loading = data["ac_check"]["loading"]
    assert [o["element"] for o in loading["overloads"]] == ["Capacitor.sc"]
    assert loading["max_loading_element"] == "Capacitor.sc"
    assert "Capacitor.sc" in json.dumps(data["opendss_fixed_overloads"])


def test_a_series_capacitor_named_as_a_line(tmp_path: Path) -> None:
    """A capacitor named as a line (``Capacitor.l2`` beside ``Line.l2``) is the model's line
    ``capacitor.l2``; the check rates it as ``Capacitor.l2`` and ``Line.l2`` as the line."""
    path = _write(tmp_path, cap_amps=80, reactor_amps=200)
    path.write_text(path.read_text().replace("Capacitor.sc ", "Capacitor.l2 "))
    cap_amps, _ = _opendss_amps(path, "Capacitor.l2")
    line_amps, line_rating = _opendss_amps(path, "Line.l2")
    net = read_opendss(path)
    assert net.line_of("Capacitor.l2") == "capacitor.l2" and net.line_of("Line.l2") == "l2"
    assert net.opendss_name("capacitor.l2") == "Capacitor.l2"
    sol = solve_opendss(net, with_controls=False)
    assert [o[0] for o in sol.overloads] == ["Capacitor.l2"]
    assert sol.overloads[0][2] == pytest.approx(cap_amps, rel=1e-6)
    assert sol.loadings["Line.l2"] == pytest.approx(100 * line_amps / line_rating, rel=1e-6)
