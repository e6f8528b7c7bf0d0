"""report.html of a partition result folder shows the failing OpenDSS samples of ``--samples``
with the limits each breaks (``checks.ac_failures``), as result.json records them and the
console prints them; before, the page only said "2 of 5 samples break a limit" and named
none. A result whose samples all pass has no such section (no empty table).

The independent truth is OpenDSS itself, driven here without feederopt
(:func:`partition_feeders.long_line_b2_voltages`): the long line's file compiled with
``opendssdirect``, its grid-forming generator replaced by a stiff source at the plan's
set-point, the load scaled by each of the run's draws (``1 + X u``, ``u ~ U(-1, 1)``, numpy's
default generator with seed 0), and b2's phase voltages read back against the network's
0.9 p.u. (the OpenDSS file sets no other limit). At 4 MW and +-5 % the two draws above the
nominal load put b2 below 0.9 p.u. (tests/test_partition_sample_verdict.py)."""

from __future__ import annotations

import json
import re
import sys
from html import unescape
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from feederopt.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from partition_feeders import LONG_LINE_SETTINGS, long_line, long_line_b2_voltages

runner = CliRunner(env={"COLUMNS": "400"})

V_MIN = 0.9  # the network's limit: the OpenDSS file sets none
SAMPLES = 5
X = 0.05


def _run(tmp_path: Path, kw: float) -> tuple[int, Path]:
    feeder, settings = tmp_path / "long.dss", tmp_path / "long.json"
    feeder.write_text(long_line(kw, round(kw / 3, 2)))
    settings.write_text(json.dumps(LONG_LINE_SETTINGS))
    out = tmp_path / "res"
    result = runner.invoke(app, ["partition", str(feeder), "--settings", str(settings),
                                 "--uncertainty", str(X), "--samples", str(SAMPLES),
                                 "--out", str(out), "--time-limit", "120"])
    return result.exit_code, out


def _section(html: str, anchor: str) -> str | None:
    m = re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S)
    return m.group(1) if m else None


def _rows(table_html: str) -> list[dict[str, str]]:
    """The rows of the section's one table, by its column headers, as text."""
    heads = [unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', table_html)]
    body = re.search(r"<tbody>(.*?)</tbody>", table_html, re.S)
    assert body is not None
    return [dict(zip(heads, (unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)),
                     strict=True))
            for tr in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def test_the_report_names_each_failing_samples_broken_limits(tmp_path: Path) -> None:
    code, out = _run(tmp_path, 4000)
    assert code == 4
    doc = json.loads((out / "result.json").read_text())
    (v_set,) = doc["checks"]["grid_forming_v_pu"].values()
    draws = 1 + X * np.random.default_rng(0).uniform(-1.0, 1.0, size=(SAMPLES, 1))[:, 0]
    lows = {k: long_line_b2_voltages(tmp_path / "long.dss", v_set, f)[0]
            for k, f in enumerate(draws)}
    failing = {k: v for k, v in lows.items() if v < V_MIN - 1e-9}
    assert len(failing) == 2, lows  # the premise: the upper draws fall below 0.9 p.u.
    for page in (out / "report.html",
                 tmp_path / "again.html"):  # the folder's page and `feederopt report DIR`'s
        if page.name == "again.html":
            res = runner.invoke(app, ["report", str(out), "--out", str(page)])
            assert res.exit_code == 0, res.output
        html = page.read_text()
        sec = _section(html, "ac-failures")
        assert sec is not None, "no failing-samples section"
        assert "Failing OpenDSS samples (IV-E)" in sec
        assert "2 of 5 samples break a limit in OpenDSS (IV-E)" in unescape(sec)
        rows = _rows(sec)
        assert {int(r["sample"]) for r in rows} == set(failing)
        for k, low in failing.items():
            mine = [r for r in rows if int(r["sample"]) == k]
            # the worst broken limit of the sample: b2's lowest phase, OpenDSS's voltage
            # against the 0.9 p.u. limit
            worst = min(mine, key=lambda r: float(r["value"].split()[0]))
            assert worst["limit broken"] == "v_min (voltage below its minimum)"
            assert re.fullmatch(r"bus b2\.[abc]", worst["element"]), worst
            # OpenDSS's voltage of the draw (to the table's 1e-4 p.u.) against the 0.9 p.u.
            # limit, as result.json records it
            assert abs(float(worst["value"].split()[0]) - low) <= 6e-5, (worst, low)
            (rec,) = [f for f in doc["checks"]["ac_failures"] if f["sample"] == k]
            v = min(rec["limit_violations"], key=lambda d: d["value"])
            assert worst["value"] == f"{v['value']:.4f} p.u."
            assert worst["limit"] == f"{V_MIN:.4f} p.u."
            assert worst["exceeded by"] == f"{V_MIN - v['value']:.4g} p.u."
            # every phase of b2 below 0.9 in OpenDSS is a row, and no other element
            assert all(r["element"].startswith("bus b2.") for r in mine)
        # the summary's row points at the table
        assert "Failing OpenDSS samples&quot; below" in html or \
            'Failing OpenDSS samples" below' in unescape(html)


def test_a_result_whose_samples_all_pass_shows_no_failing_samples_table(
        tmp_path: Path) -> None:
    code, out = _run(tmp_path, 500)
    assert code == 0
    doc = json.loads((out / "result.json").read_text())
    assert doc["checks"]["ac_feasible"] == SAMPLES and not doc["checks"]["ac_failures"]
    html = (out / "report.html").read_text()
    assert _section(html, "ac-failures") is None
    assert "Failing OpenDSS samples" not in html
