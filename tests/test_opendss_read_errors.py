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


# ---- a node used twice in a line's bus spec (finding 3) ------------------------------------

CODES = """New Linecode.lc3 nphases=3 units=kft rmatrix=[0.09 | 0.03 0.09 | 0.03 0.03 0.09]
~ xmatrix=[0.2 | 0.09 0.2 | 0.08 0.09 0.2]
"""


@pytest.mark.parametrize(("line", "nodes", "given"), [
    # phases=2 before a 3-phase line code: the code makes it 3 phases, b1.2.3 gives 2 nodes
    ("New Line.lat phases=2 bus1=b1.2.3 bus2=b2.2.3 linecode=lc3 length=1 units=kft\n",
     [2, 3, 3], "gives 2 nodes"),
    # a node written twice
    ("New Line.lat phases=2 bus1=b1.2.2 bus2=b2.2.2 r1=0.1 x1=0.2 length=1 units=km\n",
     [2, 2], "bus1=b1.2.2"),
], ids=["fewer_nodes_than_phases", "node_written_twice"])
def test_a_node_used_twice_is_named(tmp_path: Path, line: str, nodes: list[int],
                                    given: str) -> None:
    """OpenDSS connects the line's conductors to ``nodes`` at both ends (read from OpenDSS
    itself); the problem names the repeated node and the bus spec, not a phase mismatch
    between the ends (which there is none of)."""
    from feederopt.io.opendss import read_opendss

    path = tmp_path / "bad.dss"
    path.write_text(HEAD + CODES + line + TAIL)
    cwd = os.getcwd()
    try:
        dss.Text.Command(f'redirect "{path}"')
    finally:
        os.chdir(cwd)
    dss.Lines.Name("lat")
    order = [int(x) for x in dss.CktElement.NodeOrder()]
    assert order == nodes + nodes  # both terminals, OpenDSS's own connection
    twice = max(set(nodes), key=nodes.count)
    with pytest.raises(InputError) as err:
        read_opendss(path)
    (problem,) = err.value.problems
    assert problem.ids == ("lat",) and problem.field == "bus1"
    assert f"uses node {twice} of bus b1 twice" in problem.message and given in problem.message
    assert "same phases" not in problem.message + problem.hint
    assert "each once" in problem.hint or "its own node" in problem.hint
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
