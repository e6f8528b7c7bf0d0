"""The iteration log ends on the result's bounds: every step that moves a bound is a row.

On case33bw the bound that proves optimality comes from conic probing's loop branch-and-bound
(:mod:`feederopt.algorithms.probing`), after the start row and before any master solve. The
log (and with it ``iterations.parquet``, the JSON ``iteration_log`` and the report's
convergence table) had only the start row: lower bound 122.889 kW and gap 11.9 % on a run that
result.json reports optimal at 139.544 kW. Independent truth: Baran & Wu's published optimum
139.55 kW (IEEE Trans. Power Delivery 4(2), 1989).
"""

from __future__ import annotations

import itertools
import json
import math

import polars as pl
import pytest

import feederopt
from feederopt.algorithms.base import AlgorithmBase, StopOptions
from feederopt.report.html import convergence_section
from feederopt.report.output import write_result_dir
from feederopt.report.page import cell
from feederopt.results.result import Result

PUBLISHED_KW = 139.55  # case33bw, rounded to 0.01 kW


@pytest.fixture(scope="module", params=["benders", "benders-scip"])
def result(request: pytest.FixtureRequest) -> Result:
    if request.param == "benders-scip":
        pytest.importorskip("pyscipopt")
    return feederopt.solve("case33bw", request.param, time_limit=120, ac_check=False)


def test_last_row_is_the_final_result(result: Result) -> None:
    assert result.status.value == "optimal"
    last = result.log[-1]
    assert last.lower_bound == result.lower_bound
    assert last.upper_bound == result.objective
    assert last.gap == pytest.approx(result.gap, rel=1e-12, abs=1e-15)
    assert last.gap <= 1e-4
    # the proof: the logged bound is within the gap of the published optimum
    assert PUBLISHED_KW * (1 - 2e-4) <= last.lower_bound <= last.upper_bound
    assert last.upper_bound == pytest.approx(PUBLISHED_KW, abs=0.01)
    # the row names the step that proved it (here probing, before any master solve)
    assert last.note.startswith("probing")


def test_lower_bounds_never_decrease_and_upper_never_increase(result: Result) -> None:
    lows = [r.lower_bound for r in result.log]
    ups = [r.upper_bound for r in result.log]
    assert all(b >= a for a, b in itertools.pairwise(lows)), lows
    assert all(b <= a for a, b in itertools.pairwise(ups)), ups
    for r in result.log:  # each row's gap is that of its bounds
        if math.isfinite(r.lower_bound) and math.isfinite(r.upper_bound):
            assert r.gap == pytest.approx(
                max(r.upper_bound - r.lower_bound, 0.0) / abs(r.upper_bound), rel=1e-9)


def test_written_log_and_report_end_on_the_final_bound(result: Result, tmp_path) -> None:
    folder = write_result_dir(result, tmp_path / "out")
    data = json.loads((folder / "result.json").read_text())
    assert data["iteration_log"][-1]["lower_bound_kw"] == pytest.approx(data["lower_bound"])
    assert data["iteration_log"][-1]["gap"] == pytest.approx(data["gap"])
    frame = pl.read_parquet(folder / "iterations.parquet")
    assert frame["lower_bound_kw"][-1] == pytest.approx(data["lower_bound"])
    assert frame["gap"][-1] == pytest.approx(data["gap"])
    assert frame["note"].dtype == pl.String
    # the report's table: its last row shows the final lower bound and gap
    html = convergence_section(data)
    last_row = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[-1]
    assert cell(data["lower_bound"], 0) in last_row
    assert cell(data["gap"] * 100, 0) in last_row  # the log gives the gap in %, as the summary


def test_record_if_moved_records_only_a_moved_bound() -> None:
    algo = AlgorithmBase(StopOptions())
    assert not algo.record_if_moved("nothing yet")  # no row and no finite bound
    algo.update_upper(10.0)
    assert algo.record_if_moved("start")
    assert not algo.record_if_moved("again")  # unchanged
    algo.update_lower(9.0)
    assert algo.record_if_moved("probing")
    assert [(r.lower_bound, r.upper_bound, r.note) for r in algo.log] == [
        (-math.inf, 10.0, "start"), (9.0, 10.0, "probing")]
    assert algo.log[-1].gap == pytest.approx(0.1)


def test_the_figure_spreads_rows_of_one_iteration() -> None:
    """The start and the probing rows both have iteration 0: plotted against the iteration
    the two bounds stood on one vertical line and the gap's band vanished."""
    from feederopt.report.plot import ITERATION_AXIS, STEP_AXIS, convergence_figure

    log = [{"iteration": 0, "lower_bound": 122.9, "upper_bound": 139.6},
           {"iteration": 0, "lower_bound": 139.5, "upper_bound": 139.6}]
    ax = convergence_figure(log).axes[0]
    xs = {float(x) for line in ax.get_lines() for x in line.get_xdata()}
    assert len(xs) == 2 and ax.get_xlabel() == STEP_AXIS
    plain = [{"iteration": k, "lower_bound": 100.0 + k, "upper_bound": 110.0} for k in (1, 2)]
    assert convergence_figure(plain).axes[0].get_xlabel() == ITERATION_AXIS
