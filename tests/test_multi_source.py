"""Radiality with several substations: a second source supplies itself (check, presolve)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.errors import InputError, ProblemKind
from feederopt.io import write_folder
from feederopt.network import Network
from feederopt.network.perunit import to_per_unit
from feederopt.network.topology import is_radial_forest, radiality_problem
from feederopt.validation.montecarlo import check_result

runner = CliRunner()


def two_source_net() -> Network:
    """Sources 1 and 5; 1-2 fixed, 2-3, 3-4, 2-5 switchable, tie 5-4 normally open; a bus 6
    that only a switch (4-6) reaches."""
    buses = pl.DataFrame({"id": ["1", "2", "3", "4", "5", "6"], "vn_kv": [12.66] * 6,
                          "is_source": [True, False, False, False, True, False]})
    branches = pl.DataFrame({
        "id": ["a", "b", "c", "d", "e", "f"],
        "from_bus": ["1", "2", "3", "2", "5", "4"],
        "to_bus": ["2", "3", "4", "5", "4", "6"],
        "r_ohm": [0.5, 0.6, 0.7, 0.8, 0.9, 0.4],
        "x_ohm": [0.4, 0.5, 0.5, 0.6, 0.7, 0.3],
        "switchable": [False, True, True, True, True, True],
        "normally_open": [False, False, False, False, True, False],
    })
    loads = pl.DataFrame({"id": ["L3", "L4", "L5", "L6"], "bus": ["3", "4", "5", "6"],
                          "p_mw": [0.5, 0.6, 0.4, 0.1], "q_mvar": [0.2, 0.25, 0.15, 0.05]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads, name="two_src")


def _closed(net: Network, open_ids: set[str]) -> np.ndarray:
    return np.array([b not in open_ids for b in net.branches["id"].to_list()])


def test_radiality_problem_accepts_a_forest_with_one_tree_per_source() -> None:
    pu = to_per_unit(two_source_net())
    # 1-2-3 and 5-4-6: two trees, one source each (the independent definition agrees)
    closed = _closed(two_source_net(), {"c", "d"})
    assert is_radial_forest(pu.n_bus, pu.f, pu.t, closed, pu.is_source)[0]
    assert radiality_problem(pu.bus_ids, pu.branch_ids, pu.f, pu.t, closed, pu.is_source) is None


def test_radiality_problem_still_names_a_bus_cut_off_from_both_sources() -> None:
    pu = to_per_unit(two_source_net())
    closed = _closed(two_source_net(), {"c", "d", "f"})  # bus 6 alone
    assert not is_radial_forest(pu.n_bus, pu.f, pu.t, closed, pu.is_source)[0]
    problem = radiality_problem(pu.bus_ids, pu.branch_ids, pu.f, pu.t, closed, pu.is_source)
    assert problem is not None and problem.kind is ProblemKind.NOT_RADIAL
    assert problem.ids == ("6",)


def test_radiality_problem_names_a_path_between_the_two_sources() -> None:
    pu = to_per_unit(two_source_net())
    closed = _closed(two_source_net(), {"c"})  # 1-2-5 joins the sources
    problem = radiality_problem(pu.bus_ids, pu.branch_ids, pu.f, pu.t, closed, pu.is_source)
    assert problem is not None and "two sources" in problem.message
    assert set(problem.ids) == {"a", "d"}


def test_check_runs_on_a_result_of_a_two_source_network() -> None:
    net = two_source_net()
    data = {"case": "two_src", "status": "optimal", "open_branches": [{"id": "c"}, {"id": "d"}]}
    mc = check_result(data, 3, 0.1, network=net, ac=True)
    assert mc.samples == 3 and sorted(mc.open_branches) == ["c", "d"]
    assert mc.feasible_ac is not None and len(mc.ac_ok) == 3
    bad = {"case": "two_src", "status": "optimal", "open_branches": ["c", "d", "f"]}
    with pytest.raises(InputError) as err:
        check_result(bad, 3, 0.1, network=net)
    assert [p.ids for p in err.value.problems] == [("6",)]


def test_cli_solve_then_check_a_two_source_network(tmp_path: Path) -> None:
    """`feederopt solve` then `feederopt check` on a folder with two sources: exit 0; the same
    result with the branch to bus 6 opened is refused as not radial (exit 2, bus 6 named)."""
    write_folder(two_source_net(), tmp_path / "net")
    res = tmp_path / "res.json"
    out = runner.invoke(app, ["solve", str(tmp_path / "net"), "--json", str(res)])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["check", str(res), "-n", "5", "-u", "0.2"])
    assert out.exit_code == 0, out.output
    data = json.loads(res.read_text())
    data["open_branches"] = [*data["open_branches"], {"id": "f"}]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    out = runner.invoke(app, ["check", str(bad), "-n", "5", "-u", "0.2"])
    assert out.exit_code == 2
    assert "not_radial" in out.output and "[6]" in out.output
