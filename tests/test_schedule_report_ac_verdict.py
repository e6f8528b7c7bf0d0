"""The schedule report's Summary gives the hourly AC check's verdict, as the console does (user
test ut38_cli #2).

The console printed "AC check: max |V_AC - V_model|", "AC check: V min / V max (AC, true)" and
"AC check: within limits"; the report's Summary (``schedule --out``, and ``feederopt report
DIR`` from its result.json) had none of them, only the hourly table. Both now print the rows
of :func:`feederopt.ac_check_rows`.

Independent truth: the rows are recomputed by hand from the hourly AC table of result.json
(pandapower's voltages per hour) and case33bw's voltage band, 0.9 to 1.1 p.u.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

ENV = {"COLUMNS": "240"}
LABELS = ("AC check: max |V_AC - V_model|", "AC check: V min / V max (AC, true)",
          "AC check: within limits")


def _summary(page: str) -> dict[str, str]:
    """The report's Summary table as label -> text."""
    body = page[page.index('id="summary"'):]
    body = body[:body.index("</table>")]
    rows = re.findall(r"<th[^>]*>(.*?)</th>\s*<td[^>]*>(.*?)</td>", body, re.S)
    return {html.unescape(re.sub(r"<[^>]+>", "", k)).strip():
            html.unescape(re.sub(r"<[^>]+>", "", v)).strip() for k, v in rows}


def _console(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]
        if len(cells) == 2 and cells[0] in LABELS:
            out[cells[0]] = cells[1]
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("sched") / "s33"
    res = CliRunner().invoke(app, ["schedule", "case33bw", "--dsm", "0.1", "--hours", "3",
                                   "--out", str(folder)], env=ENV)
    assert res.exit_code == 0, res.output
    return folder, res.output


def test_report_summary_has_the_console_ac_rows(run: tuple[Path, str]) -> None:
    folder, output = run
    console = _console(output)
    assert set(console) == set(LABELS), output
    summary = _summary((folder / "report.html").read_text())
    assert {k: summary.get(k) for k in LABELS} == console
    # by hand, from the hourly AC table: pandapower's voltages within case33bw's band
    doc = json.loads((folder / "result.json").read_text())
    hours = [a for a in doc["ac_check"] if a["converged"]]
    assert len(hours) == 3
    v_min = min(a["v_min_ac"] for a in hours)
    v_max = max(a["v_max_ac"] for a in hours)
    err = max(a["max_v_error_pu"] for a in hours)
    assert summary[LABELS[1]] == f"{v_min:.4f} / {v_max:.4f} p.u."
    assert summary[LABELS[0]] == f"{err:.4f} p.u."
    within = v_min >= 0.9 and v_max <= 1.1 and not any(a["limit_violations"] for a in hours)
    assert within  # by hand, the voltages above
    assert summary[LABELS[2]] == "yes"  # not Python's "True" (ut47_report #3)


def test_report_command_rebuilds_the_same_rows(run: tuple[Path, str], tmp_path: Path) -> None:
    folder, output = run
    res = CliRunner().invoke(app, ["report", str(folder), "--out", str(tmp_path / "r.html")],
                             env=ENV)
    assert res.exit_code == 0, res.output
    summary = _summary((tmp_path / "r.html").read_text())
    assert {k: summary.get(k) for k in LABELS} == _console(output)
