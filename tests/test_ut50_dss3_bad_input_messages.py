"""Messages on bad OpenDSS input name what is wrong (user test ut50_dss3 #5).

The tester's files (data/ut50_dss3/two): ``g_bad_geo.dss`` gives Line.l23 ``geometry=geo4``,
which is never defined: the problem was reported on ``line_code`` with the hint "the line code
is not defined before the line". ``n_badspacing.dss`` gives Line.l67 ``spacing=sp4``, never
defined: OpenDSS's "You must assign the LineSpacing before the Wires Property" was passed on
with "check the file with OpenDSS". ``f_bad_coords.dss`` names a BusCoords file that does not
exist: refused, exit 2, although coordinates only place the buses in the plots. The truth is
the user's file itself (the names it gives and the objects it defines, the csv it names) and
opendssdirect's load of it."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from feederopt.cli import app

DATA = Path(__file__).parent / "data" / "ut50_dss3" / "two"
runner = CliRunner()


def _named(path: Path, prop: str) -> str:
    """The value the file gives ``prop=`` whose object the file never defines."""
    text = path.read_text()
    kind = {"geometry": "LineGeometry", "spacing": "LineSpacing"}[prop]
    defined = {m.lower() for m in re.findall(rf"New\s+{kind}\.(\w+)", text, re.I)}
    used = [m for m in re.findall(rf"\b{prop}=(\w+)", text, re.I) if m.lower() not in defined]
    assert len(used) == 1, used
    return used[0]


def _info(name: str) -> tuple[int, str]:
    res = runner.invoke(app, ["info", str(DATA / name)], terminal_width=250)
    return res.exit_code, " ".join(res.output.split())


def test_undefined_geometry_is_named() -> None:
    geo = _named(DATA / "g_bad_geo.dss", "geometry")
    code, text = _info("g_bad_geo.dss")
    assert code == 2, text
    assert f"LineGeometry.{geo}" in text and ".geometry" in text
    assert "line code" not in text and ".line_code" not in text


def test_undefined_spacing_is_named() -> None:
    sp = _named(DATA / "n_badspacing.dss", "spacing")
    code, text = _info("n_badspacing.dss")
    assert code == 2, text
    assert f"LineSpacing.{sp}" in text and ".spacing" in text
    assert "check the file with OpenDSS" not in text


def test_missing_coordinates_are_a_warning() -> None:
    path = DATA / "f_bad_coords.dss"
    named = re.search(r"BusCoords\s+(\S+)", path.read_text(), re.I)
    assert named is not None and not (DATA / named.group(1)).exists()
    code, text = _info("f_bad_coords.dss")
    assert code == 0, text
    assert named.group(1) in text and "without those bus coordinates" in text
    # the whole feeder is read: the loads of its Redirected file are there
    loads = re.findall(r"New\s+Load\.", (DATA / "sub" / "loads.dss").read_text(), re.I)
    assert re.search(rf"│ loads │ {len(loads)} │", text), text
