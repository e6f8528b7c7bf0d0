"""The HTML report of a proven-infeasible scenario run (user test ut50_scen #3, #4). The
fixture is the user's own result.json (``solve mesh8.json --scenarios mesh_inf.csv
--workers 2 --out inf_dir --report``): its ``infeasible_reason`` names scenario d, its
``unsupplied_scenarios`` is ['d'], each diagnosis row carries scenario 'd', and its
iteration log has one "enumeration: scenario k of 4" row per scenario and no master solve.
The report said only "no radial topology meets the limits", had no scenario column, and
labelled the 4 enumeration steps "iterations (master MILP solves)"."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from feederopt.report.html import read_result_folder, render_report

FOLDER = Path(__file__).parent / "data" / "report" / "ut50_scen_infeasible"


@pytest.fixture(scope="module")
def page() -> str:
    return html.unescape(re.sub(r"\s+", " ", render_report(read_result_folder(FOLDER))))


@pytest.fixture(scope="module")
def result() -> dict:
    return json.loads((FOLDER / "result.json").read_text())


def test_the_report_states_the_reason_and_the_unsupplied_scenario(page: str,
                                                                   result: dict) -> None:
    assert result["unsupplied_scenarios"] == ["d"]
    assert result["infeasible_reason"] in page
    row = re.search(r"scenario no radial topology supplies</th><td>(.*?)</td>", page)
    assert row is not None and re.sub(r"<[^>]+>", "", row.group(1)) == "d"


def test_the_diagnosis_rows_say_their_scenario(page: str, result: dict) -> None:
    section = page[page.index('id="diagnosis"'):]
    section = section[:section.index("</table>")]
    head = re.findall(r'<th scope="col">(.*?)</th>', section)
    assert head[0] == "scenario"
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r)
             for r in re.findall(r"<tr>(.*?)</tr>", section) if "<td" in r]
    assert [c[0] for c in cells] == [d["scenario"] for d in result["diagnosis"]]


def test_the_iterations_say_they_are_enumeration_steps(page: str, result: dict) -> None:
    # the user's log: one "enumeration: scenario k of 4" row per scenario, no master solve
    steps = [row for row in result["iteration_log"]
             if str(row["note"]).startswith("enumeration: scenario")]
    assert len(steps) == result["iterations"] == 4
    assert all(row["master_s"] == 0 for row in result["iteration_log"])
    row = re.search(r'<th scope="row">(iterations[^<]*)</th><td>(.*?)</td>', page)
    assert row is not None
    assert "master MILP" not in row.group(1) and "enumeration steps" in row.group(1)
    assert row.group(2).startswith("4 enumeration steps (one per scenario")
