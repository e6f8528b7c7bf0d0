"""OpenDSS's read errors of hand-written files, as typed problems with a fitting hint, exit 2,
no traceback (user test ut_3ph, finding 4: the hints of an unknown property and an unknown
command were swapped). The messages are OpenDSS's own (DSS C-API): each test file fails to
compile in OpenDSS with the quoted message before feederopt reads anything."""

from __future__ import annotations

import json
import os
from pathlib import Path

import opendssdirect as dss
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError

runner = CliRunner()

HEAD = """Clear
New Circuit.bad basekv=12.47 phases=3 bus1=src
New Line.l1 phases=3 bus1=src bus2=b1 r1=0.1 x1=0.2 r0=0.3 x0=0.6 length=1 units=km
"""
TAIL = """New Load.d1 bus1=b1 phases=3 kV=12.47 kW=100 kvar=50
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""


@pytest.mark.parametrize(("body", "opendss_says", "hint"), [
    ("New Line.l2 phases=3 bus1=b1 bus2=b2 r1=0.1 x1=0.2 lenght=3\n",
     'Unknown parameter "lenght"', "an element or property name is unknown"),
    ("New PVSistem.pv1 phases=3 bus1=b1 kV=12.47 kVA=300 Pmpp=250\n",
     'Object Type "PVSistem" not found', "an element or property name is unknown"),
    ("Nw Line.l2 phases=3 bus1=b1 bus2=b2 r1=0.1 x1=0.2\n",
     'Unknown Command: "Nw"', "a command name is unknown"),
], ids=["unknown_property", "unknown_type", "unknown_command"])
def test_read_errors_get_the_hint_of_what_is_unknown(tmp_path: Path, body: str,
                                                     opendss_says: str, hint: str) -> None:
    from feederopt.io.opendss import read_opendss

    path = tmp_path / "bad.dss"
    path.write_text(HEAD + body + TAIL)
    cwd = os.getcwd()
    try:
        with pytest.raises(Exception, match=opendss_says):
            dss.Text.Command(f'redirect "{path}"')  # OpenDSS itself refuses the line
    finally:
        os.chdir(cwd)
    with pytest.raises(InputError) as err:
        read_opendss(path)
    (problem,) = err.value.problems
    assert opendss_says in problem.message
    assert problem.hint.startswith(hint)
    result = runner.invoke(app, ["info", str(path), "--json"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert json.loads(result.stdout)["problems"][0]["hint"].startswith(hint)
