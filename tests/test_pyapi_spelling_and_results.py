"""The Python API speaks Python (user test ut39_api).

1. A problem of the options names the option as the caller gave it: ``v_min=0.9`` to a
   script that called ``solve_options(v_min=95)``, ``--v-min 0.9`` on the command line (the
   hints named the CLI's flags to both).
2. ``solve_options`` and ``SolveOptions`` check their values when built: a bad value raised
   only in ``solve``.
3. A saved balanced solve reads back as a :class:`Result` (``Result.from_dict``,
   ``feederopt.load_result``); ``read_result`` gave only a dict or the folder's tables.

Truth for the round trip: the published optimum of case33bw (Baran & Wu 1989; Jabr, Singh &
Pal 2012): branches 7, 9, 14, 32 and 37 open, 139.55 kW of losses.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import feederopt as fo
from feederopt.cli import app
from feederopt.errors import InputError
from feederopt.options import Limits, SolveOptions
from feederopt.results.result import Result

V1_FOLDER = Path(__file__).parent / "data" / "result_kinds" / "solve_v1"
PUBLISHED_OPEN = {"7", "9", "14", "32", "37"}  # case33bw's optimum (Baran & Wu 1989)
PUBLISHED_LOSSES_KW = 139.55


def _problems(call: Any) -> list[Any]:
    with pytest.raises(InputError) as e:
        call()
    return list(e.value.problems)


# ----- 1. hints in the caller's spelling -------------------------------------------------------
@pytest.mark.parametrize(("keywords", "field", "python", "flag"), [
    ({"v_min": 95}, "v_min", "v_min=0.9", "--v-min"),
    ({"hold_closed": ""}, "hold_closed", "hold_closed=(", "--hold-closed"),
    ({"switch_cost_kw": -1.0}, "switch_cost_kw", "switch_cost_kw=5", "--switch-cost"),
    ({"budget": 2}, "budget", "robust=0.1", "--robust"),
])
def test_a_python_caller_is_told_the_keyword_not_the_flag(keywords: dict[str, Any], field: str,
                                                          python: str, flag: str) -> None:
    for call in (lambda: fo.solve_options(**keywords),
                 lambda: fo.solve(fo.load("case33bw"), **keywords)):
        (p,) = _problems(call)
        assert p.field == field
        assert python in p.hint and flag not in str(p)


def test_a_problem_found_with_the_network_names_the_keyword_too() -> None:
    (p,) = _problems(lambda: fo.solve(fo.load("case33bw"), hold_closed="line:999"))
    assert p.field == "hold_closed" and "hold_closed" in p.message
    assert "--hold-closed" not in str(p)


def test_the_command_line_is_told_its_flags() -> None:
    out = CliRunner().invoke(app, ["solve", "case33bw", "--v-min", "95", "--switch-cost", "-1",
                                   "--hold-closed", ""])
    assert out.exit_code == 2
    text = out.output
    assert "hint: e.g. --v-min 0.9 --v-max 1.1" in text
    assert "e.g. --switch-cost 5" in text and "--hold-closed names no branch" in text
    assert "v_min=" not in text and "switch_cost_kw=5" not in text


# ----- 2. checked when built -------------------------------------------------------------------
def test_solve_options_refuses_bad_values_at_once_listing_every_problem() -> None:
    problems = _problems(lambda: fo.solve_options(v_min=95, budget=2, gap=2.0))
    assert sorted(p.field for p in problems) == ["budget", "gap", "v_min"]
    assert fo.solve_options(v_min=0.95, v_max=1.05).limits.v_min == 0.95


def test_solve_options_built_by_hand_are_checked_too() -> None:
    (p,) = _problems(lambda: SolveOptions(limits=Limits(v_min=95)))
    assert p.field == "v_min" and "v_min=0.9" in p.hint
    # unchecked on request, for a caller that reports them with problems of its own
    assert [q.field for q in SolveOptions(limits=Limits(v_min=95), validate=False).check()] == [
        "v_min"]


# ----- 3. a saved result as a Result -----------------------------------------------------------
@pytest.fixture(scope="module")
def solved() -> Result:
    return fo.solve(fo.load("case33bw"), time_limit=120)


def _assert_same(back: Result, r: Result, *, tables: bool = True) -> None:
    assert back.status is r.status and back.method == r.method and back.case == r.case
    for name in ("objective", "losses_kw", "lower_bound", "gap", "min_voltage_pu",
                 "max_voltage_pu"):
        assert getattr(back, name) == pytest.approx(getattr(r, name), rel=1e-12), name
    assert back.iterations == r.iterations and back.within_limits == r.within_limits
    assert back.open_branches == r.open_branches
    assert back.ac_check is not None and r.ac_check is not None
    assert back.ac_check.losses_kw == pytest.approx(r.ac_check.losses_kw, rel=1e-12)
    assert back.ac_check.within_limits == r.ac_check.within_limits
    assert [x.upper_bound for x in back.log] == [x.upper_bound for x in r.log]
    if tables:
        for name in ("buses", "branches", "switches"):
            assert_frame_equal(getattr(back, name), getattr(r, name))


def test_result_from_dict_round_trips_a_solved_case33bw(solved: Result) -> None:
    assert {b["id"] for b in solved.open_branches} == PUBLISHED_OPEN
    assert solved.losses_kw == pytest.approx(PUBLISHED_LOSSES_KW, abs=0.01)
    back = Result.from_dict(solved.to_dict(tables=True))
    _assert_same(back, solved)
    assert back.to_dict() == solved.to_dict()
    # through the JSON text as written (nulls for NaN): the figures, without tables
    _assert_same(Result.from_dict(json.loads(solved.to_json())), solved, tables=False)


def test_load_result_reads_a_saved_folder(solved: Result, tmp_path: Path) -> None:
    fo.save(solved, tmp_path / "out")
    back = fo.load_result(tmp_path / "out")
    _assert_same(back, solved)


def test_an_old_schema_version_loads() -> None:
    """The schema-1 folder of ``tests/data`` (its iteration log's bounds under their old
    names): the published optimum, and its tables from the Parquet files."""
    doc = json.loads((V1_FOLDER / "result.json").read_text())
    assert doc["schema_version"] == 1 and "lower_bound" in doc["iteration_log"][0]
    r = fo.load_result(V1_FOLDER)
    assert r.status.value == "optimal"
    assert {b["id"] for b in r.open_branches} == PUBLISHED_OPEN
    assert r.objective == pytest.approx(PUBLISHED_LOSSES_KW, abs=0.01)
    assert r.lower_bound <= r.objective and math.isfinite(r.log[0].lower_bound)
    assert r.buses.height == 33 and r.branches.height == 37
    closed = dict(zip(r.switches["id"].to_list(), r.switches["closed"].to_list(), strict=True))
    assert {b for b, c in closed.items() if not c} == PUBLISHED_OPEN
    assert Result.from_dict(doc).to_dict()["iteration_log"][0]["lower_bound_kw"] == \
        doc["iteration_log"][0]["lower_bound"]


def test_a_result_read_back_from_its_bare_json_file_saves_as_a_folder(tmp_path: Path) -> None:
    """``save(load_result("r.json"), DIR)`` of a ``save_json`` file (no tables: no network to
    draw) crashed in ``plot_grid`` with polars' ``ColumnNotFoundError: "id"`` (session 44,
    savefix #1). The folder is written without ``grid.png``, said in a warning and in the
    report; its ``result.json`` reads back as the published optimum (Baran & Wu 1989)."""
    bare = tmp_path / "r.json"  # no Parquet tables beside it
    bare.write_text((V1_FOLDER / "result.json").read_text())
    r = fo.load_result(bare)
    assert r.buses.height == 0 and r.branches.height == 0
    with pytest.warns(fo.FeederoptWarning, match="grid.png is not written"):
        out = fo.save(r, tmp_path / "out")
    assert (out / "result.json").is_file() and not (out / "grid.png").exists()
    assert "no grid tables to draw" in (out / "report.html").read_text()
    back = fo.load_result(out)
    assert {b["id"] for b in back.open_branches} == PUBLISHED_OPEN
    assert back.objective == pytest.approx(PUBLISHED_LOSSES_KW, abs=0.01)


def test_load_result_refuses_another_kind_typed() -> None:
    (p,) = _problems(lambda: fo.load_result(V1_FOLDER.parent / "schedule"))
    assert p.field == "kind" and "read_result" in p.hint
