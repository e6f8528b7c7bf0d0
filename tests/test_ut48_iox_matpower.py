"""MATPOWER reader, user test ut48_iobad #1, #8 and #9 (nofunction.m).

#1: a case without ``mpc.baseMVA`` was read with 100 and no word: case18.m (baseMVA 10) gave
25.85 kW of AC losses instead of the 260.19 kW pandapower's from_ppc + runpp gives for the
original file. It is now a typed problem naming mpc.baseMVA.
#8: a branch with r = x = 0 became an ideal switch silently; a note now names its row.
#9: a file without its ``function mpc = NAME`` line raised matpowercaseframes' AttributeError.

Truth: the user's file (MATPOWER's own case18.m / case33bw.m, edited as the tester did) and,
for #1, pandapower's from_ppc + runpp of the original file."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandapower as pp
import pytest
from pandapower.converter.pypower.from_ppc import from_ppc

import feederopt
from feederopt.errors import ProblemKind
from feederopt.network import InputError
from matpower_files import m_file, matrix


def test_case_without_base_mva_is_refused_naming_it(tmp_path: Path) -> None:
    text = m_file("case18")
    edited = re.sub(r"^mpc\.baseMVA\s*=\s*10;\s*$", "", text, flags=re.M)
    assert edited != text
    (tmp_path / "case18.m").write_text(edited)
    with pytest.raises(InputError) as err:
        feederopt.load(tmp_path / "case18.m")
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.MISSING_COLUMN
    assert problem.field == "baseMVA" and "mpc.baseMVA" in problem.message

    # the original (baseMVA 10) is read on its own base: the feeder's r in ohms matches
    # pandapower's from_ppc of the file's matrices
    (tmp_path / "orig.m").write_text(text)
    net = feederopt.load(tmp_path / "orig.m")
    assert net.meta["base_mva"] == 10.0
    ppc = {"version": "2", "baseMVA": 10.0, "bus": matrix(text, "bus"),
           "gen": matrix(text, "gen"), "branch": matrix(text, "branch")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ppn = from_ppc(ppc, f_hz=50, validate_conversion=False)
        pp.runpp(ppn)
    ours = net.branches.filter(net.branches["id"] == "1")["r_ohm"].item()
    theirs = float(ppn.line.r_ohm_per_km.iloc[0] * ppn.line.length_km.iloc[0])
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_zero_impedance_branch_read_as_switch_is_named(tmp_path: Path) -> None:
    text = m_file("case33bw")
    lines = text.split("\n")
    k = next(i for i, ln in enumerate(lines) if re.match(r"\s*5\s+6\s+0\.8190\s+0\.7070", ln))
    lines[k] = re.sub(r"0\.8190\s+0\.7070", "0\t0", lines[k])
    (tmp_path / "zero_z.m").write_text("\n".join(lines))
    net = feederopt.load(tmp_path / "zero_z.m")
    row5 = net.branches.filter(net.branches["id"] == "5")
    assert row5["kind"].item() == "switch"
    notes = [w for w in net.meta["warnings"] if "row 5 (5-6)" in w]
    assert len(notes) == 1 and "switch" in notes[0]
    # the original has no such note
    (tmp_path / "orig.m").write_text(text)
    assert not any("BR_X = BR_B = 0" in w for w in feederopt.load(tmp_path / "orig.m")
                   .meta["warnings"])


def test_file_without_function_line_is_a_typed_problem(tmp_path: Path) -> None:
    text = m_file("case33bw")
    edited = re.sub(r"^function mpc = case33bw\s*$", "", text, count=1, flags=re.M)
    assert edited != text
    (tmp_path / "nofunction.m").write_text(edited)
    with pytest.raises(InputError) as err:
        feederopt.load(tmp_path / "nofunction.m")
    (problem,) = err.value.problems
    assert problem.kind == ProblemKind.UNREADABLE_FILE
    assert "function mpc" in problem.message and "AttributeError" not in problem.message
