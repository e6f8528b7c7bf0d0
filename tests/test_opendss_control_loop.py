"""OpenDSS error 485, "Max Control Iterations Exceeded" (a kvar CapControl whose bank is
larger than its ON-OFF band switches back and forth; user test ut32_3ph D), is reported as
the control loop not settling, naming the control without which OpenDSS settles, the file
named once; it read "unreadable_file ... OpenDSS cannot read" with the file named twice.
OpenDSS's own compile gives the premise (error 485) and that the same file with that
control disabled solves."""

from __future__ import annotations

from pathlib import Path

import opendssdirect as dss
import pytest

from feederopt.errors import InputError, ProblemKind
from feederopt.io.opendss import read_opendss

FEEDER = """Clear
New Circuit.cl basekv=12.47 pu=1.0 phases=3 bus1=sub MVAsc3=200 MVAsc1=180
New Linecode.c3 nphases=3 r1=0.18 x1=0.30 r0=0.50 x0=0.95 units=kft
New Line.l1 bus1=sub bus2=b1 linecode=c3 length=2 units=kft
New Line.l2 bus1=b1 bus2=b2 linecode=c3 length=2 units=kft
New Load.ld bus1=b2 phases=3 kV=12.47 kW=900 kvar=200
New Capacitor.cap bus1=b2 phases=3 kvar=300 kV=12.47
New CapControl.cc capacitor=cap element=Line.l2 terminal=1 type=kvar ONsetting=100 {off}
Set VoltageBases=[12.47]
CalcVoltageBases
Solve
"""


def _opendss_error(path: Path) -> int:
    try:
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{path}"')
    except Exception as exc:  # DSSException(number, message)
        return int(exc.args[0])
    return 0


def test_an_oscillating_control_is_named(tmp_path: Path) -> None:
    path = tmp_path / "osc.dss"
    path.write_text(FEEDER.format(off="OFFsetting=-50"))
    calm = tmp_path / "calm.dss"
    calm.write_text(FEEDER.format(off="OFFsetting=-50\nEdit CapControl.cc enabled=no"))
    assert _opendss_error(path) == 485 and _opendss_error(calm) == 0  # OpenDSS's truth
    with pytest.raises(InputError) as err:
        read_opendss(path)
    [prob] = err.value.problems
    assert prob.kind == ProblemKind.INVALID_VALUE and prob.component == "controls"
    assert prob.ids == ("CapControl.cc",)
    assert "control loop does not settle" in prob.message and "485" in prob.message
    assert "cannot read" not in prob.message
    assert prob.message.count("osc.dss") == 1
    assert "enabled=no" in prob.hint



def test_the_line_number_is_given_with_its_own_file(tmp_path: Path) -> None:
    """A master file that Redirects the feeder: OpenDSS's error position is the inner file's
    line, and the message names that file beside it (session 49's known list: the top file's
    name with the inner file's line number)."""
    (tmp_path / "feeder.dss").write_text(FEEDER.format(off="OFFsetting=-50"))
    master = tmp_path / "master.dss"
    master.write_text("Redirect feeder.dss\n")
    try:  # OpenDSS's own position of the failure: the Solve on line 11 of feeder.dss
        dss.Text.Command("clear")
        dss.Text.Command(f'compile "{master}"')
        raise AssertionError("OpenDSS solved the oscillating feeder")
    except Exception as exc:  # DSSException(number, message)
        assert int(exc.args[0]) == 485
        assert "feeder.dss" in str(exc.args[1]) and "line: 11" in str(exc.args[1])
    with pytest.raises(InputError) as err:
        read_opendss(master)
    [prob] = err.value.problems
    assert "'master.dss' at line 11 of 'feeder.dss'" in prob.message, prob.message


def test_a_redirected_file_in_a_subfolder_is_named_by_its_path(tmp_path: Path) -> None:
    """``Redirect sub/feeder.dss``: the message names ``sub/feeder.dss``, not ``feeder.dss``
    (user test ut50_recheck #8: two files of one name in different folders)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "feeder.dss").write_text(FEEDER.format(off="OFFsetting=-50"))
    master = tmp_path / "master.dss"
    master.write_text("Redirect sub/feeder.dss\n")
    with pytest.raises(InputError) as err:
        read_opendss(master)
    [prob] = err.value.problems
    assert "'master.dss' at line 11 of 'sub/feeder.dss'" in prob.message, prob.message
