"""Regression tests of issue 11, section 3: bad input gives typed problems or a correct answer.

References are independent: pandapower's Newton-Raphson on a net built here by hand,
enumeration of the radial configurations, and the published base case of Baran & Wu.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cases import load
from feederopt.cli import app
from feederopt.errors import Severity
from feederopt.io import write_folder
from feederopt.network import InputError, ProblemKind
from netbuild import set_value, tiny, tiny_pandapower_losses_kw, tiny_tables

runner = CliRunner()


def _fixed(net_branches: pl.DataFrame, branch_id: str, open_: bool) -> pl.DataFrame:
    br = set_value(net_branches, branch_id, "switchable", False)
    return set_value(br, branch_id, "normally_open", open_)


def _tiny_pandapower(open_tie: bool) -> float:
    """AC losses [kW] of the tiny feeder built by hand in pandapower (tie s-c open or closed)."""
    return tiny_pandapower_losses_kw({"tie1"} if open_tie else set())


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_fixed_open_branch_stays_open_and_every_branch_fixed_is_evaluated(method: str) -> None:
    # tie1 cannot switch and is open: every other branch of its loop is then a bridge, so
    # nothing is left to decide; the answer is the base case, as pandapower computes it.
    net = tiny(branches=_fixed(tiny_tables()["branches"], "tie1", True))
    result = feederopt.solve(net, method=method, time_limit=60)
    assert result.status.value == "optimal"
    row = result.branches.filter(pl.col("id") == "tie1").row(0, named=True)
    assert row["closed"] is False and row["p_from_mw"] == 0.0
    assert "tie1" in [b["id"] for b in result.open_branches]
    expected = _tiny_pandapower(open_tie=True)
    assert result.losses_kw == pytest.approx(expected, rel=1e-3)
    assert result.ac_check is not None and result.ac_check.losses_kw == pytest.approx(
        expected, rel=1e-6)


def test_every_branch_fixed_closed_loop_is_refused() -> None:
    br = tiny_tables()["branches"].with_columns(pl.lit(False).alias("switchable"),
                                                pl.lit(False).alias("normally_open"))
    with pytest.raises(InputError) as exc:
        feederopt.solve(tiny(branches=br), time_limit=30)
    (problem,) = exc.value.problems
    assert problem.kind is ProblemKind.NOT_RADIAL
    assert set(problem.ids) == {"l1", "l2", "l3", "tie1"}  # the loop s-a-b-c-s


def test_case33bw_every_branch_fixed_gives_the_published_base_case() -> None:
    net = load("case33bw")
    net = net.replace(branches=net.branches.with_columns(pl.lit(False).alias("switchable")))
    result = feederopt.solve(net, method="benders", time_limit=60, ac_check=False)
    assert result.status.value == "optimal"
    assert sorted(b["id"] for b in result.open_branches) == ["33", "34", "35", "36", "37"]
    # Baran & Wu (1989): 202.67 kW in the base case.
    assert result.losses_kw == pytest.approx(202.67, abs=0.05)


def test_case33bw_one_tie_fixed_open_equals_the_tie_out_of_service() -> None:
    net = load("case33bw")
    fixed = net.replace(branches=_fixed(net.branches, "33", True))
    removed = net.replace(branches=set_value(net.branches, "33", "in_service", False))
    a = feederopt.solve(fixed, time_limit=120, ac_check=False)
    b = feederopt.solve(removed, time_limit=120, ac_check=False)
    assert a.status.value == b.status.value == "optimal"
    row = a.branches.filter(pl.col("id") == "33").row(0, named=True)
    assert row["closed"] is False and row["p_from_mw"] == 0.0 and row["loss_kw"] == 0.0
    assert a.losses_kw == pytest.approx(b.losses_kw, rel=1e-4)
    # Opening 33 for good excludes Baran & Wu's optimum (which closes it): 139.55 kW.
    assert a.losses_kw > 139.55 + 1.0
    assert {x["id"] for x in a.open_branches} - {"33"} == {x["id"] for x in b.open_branches}


def test_island_behind_a_fixed_open_branch_is_reported() -> None:
    # d hangs on sw1 only; sw1 fixed open cuts d off in every configuration.
    net = tiny(branches=_fixed(tiny_tables()["branches"], "sw1", True))
    kinds = {(p.kind, p.ids) for p in net.validate()}
    assert (ProblemKind.ISLAND_WITHOUT_SOURCE, ("d",)) in kinds


# ----- all problems at once ---------------------------------------------------------------------
def test_missing_column_does_not_hide_problems_elsewhere() -> None:
    t = tiny_tables()
    loads = t["loads"].drop("q_mvar")
    branches = set_value(t["branches"], "l2", "r_ohm", -1.0)
    problems = tiny(loads=loads, branches=branches).validate()
    kinds = {(p.kind, p.component, p.field) for p in problems}
    assert (ProblemKind.MISSING_COLUMN, "loads", "q_mvar") in kinds
    assert (ProblemKind.BAD_IMPEDANCE, "branches", "r_ohm") in kinds


def test_nan_impedance_does_not_hide_an_orphan_bus() -> None:
    t = tiny_tables()
    buses = pl.concat([t["buses"], pl.DataFrame({"id": ["z"], "vn_kv": [12.66]})],
                      how="diagonal_relaxed")
    branches = set_value(t["branches"], "l3", "x_ohm", math.nan)
    problems = tiny(buses=buses, branches=branches).validate()
    kinds = {(p.kind, p.ids) for p in problems}
    assert (ProblemKind.BAD_IMPEDANCE, ("l3",)) in kinds
    assert (ProblemKind.ISLAND_WITHOUT_SOURCE, ("z",)) in kinds


def test_empty_branch_table_is_one_problem() -> None:
    t = tiny_tables()
    problems = tiny(branches=t["branches"].clear()).validate()
    assert len(problems) == 1
    assert problems[0].kind is ProblemKind.ISLAND_WITHOUT_SOURCE


def test_unknown_branch_kind_lists_the_known_kinds() -> None:
    branches = set_value(tiny_tables()["branches"], "l2", "kind", "fuse")
    (problem,) = [p for p in tiny(branches=branches).validate() if p.field == "kind"]
    assert problem.ids == ("l2",)
    assert all(k in problem.hint for k in ("line", "switch", "transformer"))


def test_nominal_voltage_in_volts_is_refused_with_a_unit_hint() -> None:
    buses = set_value(tiny_tables()["buses"], "a", "vn_kv", 12660.0)
    (problem,) = [p for p in tiny(buses=buses).validate() if p.field == "vn_kv"]
    assert problem.ids == ("a",) and "kV" in problem.hint
    with pytest.raises(InputError):
        tiny(buses=buses).check()


def test_unknown_column_is_a_warning_naming_the_nearest_column() -> None:
    branches = tiny_tables()["branches"].rename({"normally_open": "normaly_open"})
    net = tiny(branches=branches)
    net.check()  # a warning does not refuse the network
    (warning,) = net.warnings()
    assert warning.severity is Severity.WARNING
    assert warning.kind is ProblemKind.UNKNOWN_COLUMN and warning.field == "normaly_open"
    assert "'normally_open'" in warning.hint


# ----- pandapower nets ---------------------------------------------------------------------------
def test_pandapower_nan_and_inf_impedances_are_reported_not_zero() -> None:
    net = pn.case33bw()
    net.line.at[3, "r_ohm_per_km"] = math.nan
    net.line.at[4, "x_ohm_per_km"] = math.inf
    with pytest.raises(InputError) as exc:
        load(net)
    found = {(p.kind, p.field, p.ids) for p in exc.value.problems}
    # named by the net's own fields, as a negative one is (they were r_ohm, x_ohm)
    assert (ProblemKind.BAD_IMPEDANCE, "r_ohm_per_km", ("line:3",)) in found
    assert (ProblemKind.BAD_IMPEDANCE, "x_ohm_per_km", ("line:4",)) in found
    assert not [f for f in found if f[1] in ("r_ohm", "x_ohm")]  # each said once


def test_pandapower_nan_transformer_impedance_is_reported() -> None:
    net = pn.create_cigre_network_mv(with_der=False)
    net.trafo.at[0, "vk_percent"] = math.nan
    with pytest.raises(InputError) as exc:
        load(net)
    assert any(p.kind is ProblemKind.BAD_IMPEDANCE and p.ids == ("trafo:0",)
               for p in exc.value.problems)


def test_pandapower_dangling_references_are_reported_with_every_other_problem() -> None:
    net = pn.case33bw()
    net.load.at[2, "bus"] = 999
    net.line.at[6, "to_bus"] = 998
    net.line.at[5, "r_ohm_per_km"] = -0.1
    sgen = pp.create_sgen(net, 3, p_mw=0.1)
    net.sgen.at[sgen, "bus"] = 997
    with pytest.raises(InputError) as exc:
        load(net)
    found = {(p.kind, p.component, p.ids) for p in exc.value.problems}
    assert (ProblemKind.UNKNOWN_BUS, "loads", ("load:2",)) in found
    assert (ProblemKind.UNKNOWN_BUS, "generators", (f"sgen:{sgen}",)) in found
    assert (ProblemKind.UNKNOWN_BUS, "branches", ("line:6",)) in found
    assert (ProblemKind.BAD_IMPEDANCE, "branches", ("line:5",)) in found


# ----- table folders -----------------------------------------------------------------------------
def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "net"
    write_folder(tiny(), path, fmt="csv")
    return path


def _edit_csv(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def test_wrong_dtype_names_table_column_and_row_and_hides_nothing(tmp_path: Path) -> None:
    path = _folder(tmp_path)

    def bad_r(lines: list[str]) -> list[str]:
        head = lines[0].split(",")
        row = lines[2].split(",")  # branch l2
        row[head.index("r_ohm")] = "abc"
        row[head.index("switchable")] = "maybe"
        return [lines[0], lines[1], ",".join(row), *lines[3:]]

    _edit_csv(path / "branches.csv", bad_r)
    _edit_csv(path / "loads.csv", lambda ls: [ls[0].replace("q_mvar", "q_mvr"), *ls[1:]])
    with pytest.raises(InputError) as exc:
        load(path)
    found = {(p.kind, p.component, p.field, p.ids) for p in exc.value.problems}
    assert (ProblemKind.INVALID_VALUE, "branches", "r_ohm", ("l2",)) in found
    assert (ProblemKind.INVALID_VALUE, "branches", "switchable", ("l2",)) in found
    assert (ProblemKind.MISSING_COLUMN, "loads", "q_mvar", ()) in found
    (typo,) = [p for p in exc.value.problems if p.kind is ProblemKind.UNKNOWN_COLUMN]
    assert "'q_mvar'" in typo.hint and typo.severity is Severity.WARNING
    assert "Polars" not in str(exc.value) and "schema" not in str(exc.value).lower()


@pytest.mark.parametrize("typo,known", [("normaly_open", "normally_open"),
                                        ("switchabel", "switchable")])
def test_misspelt_column_warns_on_load_and_in_the_cli(tmp_path: Path, typo: str,
                                                       known: str) -> None:
    path = _folder(tmp_path)
    _edit_csv(path / "branches.csv", lambda ls: [ls[0].replace(known, typo), *ls[1:]])
    net = load(path)
    (warning,) = net.warnings()
    assert warning.field == typo and f"'{known}'" in warning.hint
    out = runner.invoke(app, ["info", str(path)])
    assert out.exit_code == 0 and typo in out.output and known in out.output


# ----- feederopt check ---------------------------------------------------------------------------
def _result_json(tmp_path: Path, open_branches: object, status: str = "optimal") -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"case": "case33bw", "method": "benders", "status": status,
                                "open_branches": open_branches}))
    return path


def _check(path: Path, *extra: str):
    out = runner.invoke(app, ["check", str(path), "--samples", "2", "--uncertainty", "0.1",
                              "--no-ac", "--json", str(path.parent / "check.json"), *extra])
    return out


def _ids(*ids: str) -> list[dict[str, str]]:
    return [{"id": i} for i in ids]


def test_check_accepts_a_radial_topology(tmp_path: Path) -> None:
    # The base case of case33bw: the five ties open (Baran & Wu).
    out = _check(_result_json(tmp_path, _ids("33", "34", "35", "36", "37")))
    assert out.exit_code == 0, out.output


@pytest.mark.parametrize("opened,named", [((), "loop"), (("33", "34"), "loop"),
                                          (("33", "34", "35", "36", "37", "1"), "cut off")])
def test_check_refuses_a_topology_that_is_not_radial(tmp_path: Path, opened: tuple[str, ...],
                                                       named: str) -> None:
    out = _check(_result_json(tmp_path, _ids(*opened)))
    assert out.exit_code == 2, out.output
    assert "not_radial" in out.output and named in out.output and "Traceback" not in out.output


def test_check_refuses_an_infeasible_result(tmp_path: Path) -> None:
    out = _check(_result_json(tmp_path, _ids("33", "34", "35", "36", "37"), "infeasible"))
    assert out.exit_code == 2 and "status" in out.output and "infeasible" in out.output


@pytest.mark.parametrize("opened", ["7", 7, [None], [[1, 2]], {"id": "7"}])
def test_check_open_branches_of_the_wrong_type_is_a_typed_problem(tmp_path: Path,
                                                                  opened: object) -> None:
    out = _check(_result_json(tmp_path, opened))
    assert out.exit_code == 2, out.output
    assert "open_branches" in out.output and "Traceback" not in out.output


def test_check_negative_uncertainty_names_the_uncertainty(tmp_path: Path) -> None:
    path = _result_json(tmp_path, _ids("33", "34", "35", "36", "37"))
    out = runner.invoke(app, ["check", str(path), "--uncertainty", "-0.5"])
    assert out.exit_code == 2
    assert "uncertainty" in out.output and ".samples" not in out.output


# ----- options -----------------------------------------------------------------------------------
def test_workers_beyond_four_per_core_is_refused() -> None:
    n = 4 * (os.cpu_count() or 1) + 1
    out = runner.invoke(app, ["solve", "case33bw", "--robust", "0.1", "--workers", str(n)])
    assert out.exit_code == 2
    assert "workers" in out.output and "per core" in out.output


def test_out_of_sample_check_refuses_closing_a_fixed_open_branch() -> None:
    from feederopt.validation.montecarlo import out_of_sample

    net = tiny(branches=_fixed(tiny_tables()["branches"], "tie1", True))
    with pytest.raises(InputError) as exc:
        out_of_sample(net, np.ones(5, dtype=bool), 0.1, 2, ac=False)
    assert exc.value.problems[0].ids == ("tie1",)
    # The base case (tie1 open) is radial and within the limits at every sample.
    mc = out_of_sample(net, np.array([True, True, True, True, False]), 0.1, 3, ac=False)
    assert mc.feasible_convex == 3 and mc.open_branches == ["tie1"]


def test_scenario_solve_keeps_a_fixed_open_branch_open() -> None:
    from feederopt.io.scenarios import generate_scenarios
    from feederopt.uncertainty import solve_scenarios

    net = tiny(branches=_fixed(tiny_tables()["branches"], "tie1", True))
    table = generate_scenarios(net, count=2, seed=3)
    result = solve_scenarios(net, table, workers=1, time_limit=60, ac_check=False)
    row = result.branches.filter(pl.col("id") == "tie1").row(0, named=True)
    assert row["closed"] is False and row["p_from_mw"] == 0.0


@pytest.mark.parametrize("table,column,value,named", [
    ("branches", "kind", "fuse", "kind"),
    ("buses", "vn_kv", "12660", "vn_kv"),
    ("branches", "r_ohm", "abc", "r_ohm"),
])
def test_cli_refuses_bad_values_with_exit_2(tmp_path: Path, table: str, column: str, value: str,
                                            named: str) -> None:
    path = _folder(tmp_path)

    def edit(lines: list[str]) -> list[str]:
        head = lines[0].split(",")
        row = lines[2].split(",")
        row[head.index(column)] = value
        return [lines[0], lines[1], ",".join(row), *lines[3:]]

    _edit_csv(path / f"{table}.csv", edit)
    out = runner.invoke(app, ["solve", str(path), "--time-limit", "10"])
    assert out.exit_code == 2, out.output
    assert f"{table} [" in out.output and named in out.output and "Traceback" not in out.output


def test_every_per_branch_field_is_subset_with_the_fixed_open_branches() -> None:
    """without_fixed_open must cut every per-branch array of the per-unit model."""
    from dataclasses import fields

    from feederopt.network.perunit import to_per_unit
    from feederopt.problems.presolve import BRANCH_FIELDS

    pu = to_per_unit(load("case33bw"))  # 33 buses, 37 branches, 32 loads
    per_branch = {f.name for f in fields(pu)
                  if hasattr(getattr(pu, f.name), "__len__") and len(getattr(pu, f.name)) == 37}
    assert per_branch <= set(BRANCH_FIELDS)


def test_every_branch_fixed_and_a_limit_broken_gives_infeasible_with_a_diagnosis() -> None:
    # pandapower's voltage at b, c and d of the fixed base case is below 0.999 p.u.
    t = tiny_tables()
    buses = t["buses"].with_columns(pl.lit(0.999).alias("v_min_pu"))
    net = tiny(buses=buses, branches=_fixed(t["branches"], "tie1", True))
    result = feederopt.solve(net, method="misocp", time_limit=60)
    assert result.status.value == "infeasible"
    limited = {(d["component"], d["limit"]) for d in result.diagnosis}
    assert ("buses", "v_min") in limited
    assert result.ac_check is not None and result.ac_check.min_voltage_pu < 0.999


def test_pandapower_ext_grid_on_a_missing_bus_is_reported_with_the_missing_source() -> None:
    net = pn.case33bw()
    net.ext_grid.at[0, "bus"] = 996
    with pytest.raises(InputError) as exc:
        load(net)
    found = {(p.kind, p.component) for p in exc.value.problems}
    assert (ProblemKind.UNKNOWN_BUS, "ext_grid") in found
    assert (ProblemKind.NO_SOURCE, "buses") in found


def test_pandapower_column_of_the_wrong_kind_is_a_typed_problem() -> None:
    net = pn.case33bw()
    net.line["from_bus"] = net.line["from_bus"].astype(object)
    net.line.at[4, "from_bus"] = "four"
    net.load = net.load.drop(columns=["p_mw"])
    with pytest.raises(InputError) as exc:
        load(net)
    found = {(p.kind, p.component, p.field) for p in exc.value.problems}
    assert (ProblemKind.INVALID_VALUE, "line", "from_bus") in found
    assert (ProblemKind.MISSING_COLUMN, "load", "p_mw") in found
