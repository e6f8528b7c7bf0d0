"""OpenDSS values that the reader must refuse, naming the element and the field (user test
ut42_badin): F2, a load of kW=1e300 was read (exit 0, a 300-digit figure printed) where the
balanced readers refuse a power above 1e6 MW as absurdly large; F4, a line with r1=-1 (and
r1=x1=0 switches) failed in OpenDSS's matrix inversion and was reported against ``length``.
The truth is the file's own value, written here."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli.app import app
from feederopt.errors import InputError
from feederopt.io.opendss import read_opendss

FEEDER = """Clear
New Circuit.bad basekv=12.47 pu=1.0 phases=3 bus1=src MVAsc3=200 MVAsc1=180
New Line.l1 bus1=src bus2=b1 {z} length=1 units=mi
New Load.a bus1=b1 phases=3 kV=12.47 kW={kw} kvar=100 model=1
Set voltagebases=[12.47]
CalcVoltageBases
Solve
"""


def _problem(tmp_path: Path, z: str, kw: str) -> tuple[str, str | None, str]:
    path = tmp_path / "bad.dss"
    path.write_text(FEEDER.format(z=z, kw=kw))
    with pytest.raises(InputError) as err:
        read_opendss(path)
    p = err.value.problems[0]
    res = CliRunner().invoke(app, ["info", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    return p.message, p.field, res.output


def test_huge_load_is_refused(tmp_path: Path) -> None:
    message, field, output = _problem(tmp_path, "r1=0.3 x1=0.6 r0=0.6 x0=1.2", "1e300")
    assert field == "kW" and "Load.a" in message and "absurdly large" in message
    assert "1e+300" in output and "0" * 30 not in output


def test_negative_r1_is_named(tmp_path: Path) -> None:
    # as ut42_badin F4's switch: OpenDSS's matrix inversion fails before the reader's check
    message, field, _ = _problem(tmp_path, "switch=y r1=-1 x1=0 r0=0 x0=0", "100")
    assert field == "r1" and "Line.l1" in message
