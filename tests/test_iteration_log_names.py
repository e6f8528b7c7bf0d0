"""A solve's iteration log has one layout in its two files (user test ut38_cli #1).

``result.json``'s ``iteration_log`` rows called the bounds ``lower_bound``/``upper_bound``
(no unit) where ``iterations.parquet`` beside it has ``lower_bound_kw``/``upper_bound_kw``, and
the README described ``iteration_log`` nowhere. Now both write
:meth:`~feederopt.solvers.status.IterationRecord.to_row`, the rename is schema version 2 (the
README's rule: a renamed field moves it up by one), and a result written by the release before
(``tests/data/result_kinds/solve_v1``: ``feederopt solve case33bw --out DIR`` at commit
1682253, without its figure) still reads: ``read_result``, ``feederopt report`` and ``feederopt
check`` take the old names.

Independent truth: Baran & Wu's published optimum of case33bw, 139.55 kW (IEEE Trans. Power
Delivery 4(2), 1989): the log's last upper bound is it, in kW, under the name that says kW.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.report.output import write_result_dir

OLD = Path(__file__).parent / "data" / "result_kinds" / "solve_v1"
README = Path(__file__).resolve().parents[1] / "README.md"
PUBLISHED_KW = 139.55  # case33bw, Baran & Wu 1989, rounded to 0.01 kW
ENV = {"COLUMNS": "240"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = feederopt.solve("case33bw", time_limit=120, ac_check=False)
    return write_result_dir(result, tmp_path_factory.mktemp("s") / "out")


def test_json_log_and_parquet_table_share_their_names(folder: Path) -> None:
    doc = json.loads((folder / "result.json").read_text())
    frame = pl.read_parquet(folder / "iterations.parquet")
    log = doc["iteration_log"]
    assert log and all(list(row) == frame.columns for row in log), (list(log[0]),
                                                                     frame.columns)
    assert {"lower_bound_kw", "upper_bound_kw"} <= set(log[0])
    assert not {"lower_bound", "upper_bound"} & set(log[0])
    # the kW in the name is right: the final upper bound is the published optimum in kW
    assert log[-1]["upper_bound_kw"] == pytest.approx(PUBLISHED_KW, abs=0.01)
    assert frame["upper_bound_kw"][-1] == log[-1]["upper_bound_kw"]
    # a renamed field moves the schema version up (the old files said 1 with the old names)
    old = json.loads((OLD / "result.json").read_text())
    assert "lower_bound" in old["iteration_log"][0] and old["schema_version"] == 1
    assert doc["schema_version"] > old["schema_version"]
    assert doc["schema_version"] == feederopt.SCHEMA_VERSION


def test_readme_documents_the_iteration_log() -> None:
    text = README.read_text()
    assert "`iteration_log`" in text
    at = text.index("`iteration_log`")
    # described with its names, beside the result JSON's other fields
    assert "lower_bound_kw" in text[at:at + 1500]


def test_old_result_reads_with_the_new_names(tmp_path: Path) -> None:
    old = json.loads((OLD / "result.json").read_text())
    doc = feederopt.read_result(OLD)
    assert [r["lower_bound_kw"] for r in doc["iteration_log"]] == [
        r["lower_bound"] for r in old["iteration_log"]]
    assert doc["iteration_log"][-1]["upper_bound_kw"] == pytest.approx(PUBLISHED_KW, abs=0.01)
    assert doc["schema_version"] == 1  # the stamp says what the file is
    with_tables = feederopt.read_result(OLD, tables=True)
    assert with_tables.iterations is not None
    assert list(with_tables.result["iteration_log"][0]) == with_tables.iterations.columns


def test_report_of_an_old_folder_shows_its_bounds(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(OLD, folder)
    run = CliRunner().invoke(app, ["report", str(folder)], env=ENV)
    assert run.exit_code == 0, run.output
    html = (folder / "report.html").read_text()
    table = html[html.index("Iteration log"):]
    table = table[:table.index("</table>")]
    last = re.findall(r"<tr>(.*?)</tr>", table, re.S)[-1]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", last, re.S)
    # iteration, lower bound [kW], upper bound [kW], ...: the old file's bounds, not "-"
    assert cells[1] != "-" and cells[2] != "-", cells
    assert float(cells[2].replace(",", "")) == pytest.approx(PUBLISHED_KW, abs=0.01)


def test_check_of_an_old_result_runs(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["check", str(OLD / "result.json"), "-u", "0.1", "-n", "3",
                                   "--no-ac-check"], env=ENV)
    assert run.exit_code == 0, run.output
    assert "Traceback" not in run.output
