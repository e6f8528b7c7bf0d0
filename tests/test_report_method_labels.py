"""A robust or scenario run's report names the run's own method in its convergence section
and its settings row (user test ut49_report #3: ``solve case33bw --robust 0.1 --report``
titled the section "Benders convergence" and its row "method, solver option, radiality" read
"benders, default, parent_child", while the method row and the grid's title said
robust-cutting-plane).

Truth: the run's own result.json ``method``, and that it is not ``benders``.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app

pytest.importorskip("pandapower")


def _report(out: Path) -> tuple[str, str]:
    method = json.loads((out / "result.json").read_text())["method"]
    return method, unescape((out / "report.html").read_text())


def _check(method: str, html: str) -> None:
    assert method != "benders"
    heading = re.search(r"<h2[^>]*>([^<]*onvergence[^<]*)<", html)
    assert heading is not None and heading.group(1).strip() == f"{method} convergence"
    assert "Benders convergence" not in html
    row = re.search(r"method, solver option, radiality</th><td>([^<]*)<", html)
    assert row is not None and row.group(1).split(",")[0] == method


def test_robust_report_names_its_method(tmp_path: Path) -> None:
    out = tmp_path / "srob"
    got = CliRunner().invoke(app, ["solve", "case33bw", "--robust", "0.1", "--out", str(out),
                                   "--report", "--time-limit", "5"])
    assert got.exit_code in (0, 4), got.output
    _check(*_report(out))


def test_scenario_report_names_its_method(tmp_path: Path) -> None:
    runner = CliRunner()
    scen = tmp_path / "scen.parquet"
    got = runner.invoke(app, ["scenarios", "case33bw", "--out", str(scen), "--count", "2",
                              "--seed", "1"])
    assert got.exit_code == 0, got.output
    out = tmp_path / "sscen"
    got = runner.invoke(app, ["solve", "case33bw", "--scenarios", str(scen), "--out", str(out),
                              "--report", "--time-limit", "3"])
    assert got.exit_code in (0, 4), got.output
    _check(*_report(out))
