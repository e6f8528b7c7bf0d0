"""The report of a three-phase scenario run (``feederopt solve FILE.dss --scenarios F --out
DIR``): the page shows OpenDSS's check of the answer in every scenario, and its badge says
``limits_broken`` exactly when the solve exits 4 because a scenario breaks the limits.

The feeder and scenarios are ``tests/test_threephase_scenarios.py``'s (the 12.47 kV ring with
switches s1-s4 and three scenarios), where OpenDSS's own solution of each switch state and
scenario (``tests/opendss_plain.py``, no feederopt code) puts the answer s4 of the run without
the voltage feedback below 0.9 p.u. in ``a_heavy`` (0.887 p.u.), and the feedback's answer s2
within the limits in every scenario (lowest 0.908 p.u.); that file checks that result.json's
per-scenario losses are OpenDSS's. Here: the page shows the numbers of result.json.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.threephase import badge_status, profile_points, render_three_phase_report
from test_threephase_scenarios import SCENARIOS, _feeder, _table

runner = CliRunner()


def _run(tmp: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    """The CLI's solve with the scenarios into ``tmp/out``: exit code, result.json, page."""
    csv = tmp / "s.csv"
    _table().write_csv(csv)
    out = tmp / "out"
    res = runner.invoke(app, ["solve", str(_feeder(tmp)), "--scenarios", str(csv),
                              "--no-thermal-limits", "--out", str(out), "--quiet", *extra])
    assert res.exit_code in (0, 4), res.output
    return (res.exit_code, json.loads((out / "result.json").read_text()),
            (out / "report.html").read_text())


@pytest.fixture(scope="module")
def with_feedback(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], str]:
    return _run(tmp_path_factory.mktemp("fb"))


@pytest.fixture(scope="module")
def no_feedback(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], str]:
    return _run(tmp_path_factory.mktemp("nofb"), "--no-voltage-feedback")


def _badge(html: str) -> str:
    m = re.search(r'<span class="status ([^"]+)">', html)
    assert m is not None
    return m.group(1)


def _section(html: str, anchor: str) -> str:
    m = re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S)
    assert m is not None, anchor
    return unescape(m.group(1))


def _row(section: str, scenario: str) -> list[str]:
    """The cells of ``scenario``'s row in the section's per-scenario table."""
    m = re.search(rf"<tr><td>{re.escape(scenario)}</td>(.*?)</tr>", section, re.S)
    assert m is not None, scenario
    return re.findall(r"<td[^>]*>(.*?)</td>", m.group(1))


def test_page_shows_each_scenarios_opendss_check(
        with_feedback: tuple[int, dict[str, Any], str]) -> None:
    code, result, html = with_feedback
    sc = result["scenarios"]
    assert code == 0 and sc["passed"] and sc["within_voltage_limits"]  # the premise
    scen = _section(html, "scenarios")
    for row in sc["per_scenario"]:
        cells = _row(scen, row["scenario"])
        assert f"{row['opendss_losses_kw']:.3f}" in cells
        assert f"{row['opendss_base_losses_kw']:.3f}" in cells
        assert f"{row['opendss_min_voltage_pu']:.4f}" in cells
        assert cells[-2:] == ["yes", "yes"]  # within the limits, passed
    assert f"{sc['expected_losses_kw']:.3f} kW" in scen
    assert f"{sc['base_expected_losses_kw']:.3f} kW" in scen
    worst = sc["worst_losses"]
    losses = {r["scenario"]: r["opendss_losses_kw"] for r in sc["per_scenario"]}
    assert f"{worst} ({losses[worst]:.3f} kW)" in scen
    # the summary's cards: the weighted losses and the check's verdict, not "-"
    summary = _section(html, "summary")
    assert f"{sc['expected_losses_kw']:.2f} kW" in summary
    assert f"passed in all {len(SCENARIOS)} scenarios" in summary
    assert "--no-ac-check" not in html
    assert _badge(html) == result["status"] == "optimal"
    # the voltage feedback's rows: OpenDSS's weighted losses of each topology it solved
    feedback = _section(html, "voltage-feedback")
    for it in result["voltage_feedback"]["iterations"]:
        assert f"{it['opendss_expected_losses_kw']:.3f}" in feedback


def test_badge_is_limits_broken_when_a_scenario_breaks_the_limits(
        no_feedback: tuple[int, dict[str, Any], str]) -> None:
    code, result, html = no_feedback
    rows = {r["scenario"]: r for r in result["scenarios"]["per_scenario"]}
    # the premise (OpenDSS's own solution, module docstring): s4, a_heavy below 0.9 p.u.
    assert result["open_switches"] == ["s4"] and code == 4
    assert rows["a_heavy"]["opendss_min_voltage_pu"] < 0.9
    assert _badge(html) == "limits_broken"
    scen = _section(html, "scenarios")
    assert _row(scen, "a_heavy")[-2:] == ["no", "yes"]  # outside the limits, passed
    assert _row(scen, "a_pv")[-2:] == ["yes", "yes"]
    assert "limits broken in a_heavy" in _section(html, "summary")


def test_badge_follows_every_scenarios_verdict(
        with_feedback: tuple[int, dict[str, Any], str]) -> None:
    _, result, _ = with_feedback
    assert badge_status(result) == "optimal"
    for key in ("within_voltage_limits", "passed", "within_thermal_limits"):
        broken = json.loads(json.dumps(result))
        broken["scenarios"]["per_scenario"][1][key] = False
        assert badge_status(broken) == "limits_broken", key
        page = render_three_phase_report(broken, {}, "x")
        assert "limits broken in a_pv" in unescape(page)
    no_check = json.loads(json.dumps(result))  # --no-ac-check: nothing to judge here
    for k in ("passed", "within_voltage_limits", "expected_losses_kw"):
        no_check["scenarios"].pop(k)
    assert badge_status(no_check) == "optimal"


def test_profile_draws_the_scenario_of_least_voltage_margin(
        no_feedback: tuple[int, dict[str, Any], str]) -> None:
    _, result, html = no_feedback
    worst = result["scenarios"]["worst_voltage"]
    assert result["node_voltages_scenario"] == worst == "a_heavy"
    row = next(r for r in result["scenarios"]["per_scenario"] if r["scenario"] == worst)
    lows = [profile_points(result, "opendss", ph)[2].min() for ph in "abc"]
    assert min(lows) == pytest.approx(row["opendss_min_voltage_pu"], abs=1e-9)
    highs = [profile_points(result, "opendss", ph)[2].max() for ph in "abc"]
    assert max(highs) == pytest.approx(row["opendss_max_voltage_pu"], abs=1e-9)
    voltages = _section(html, "voltages")
    assert "<img" in voltages and "Scenario a_heavy of the 3" in voltages


def test_no_ac_check_cards_give_the_feedbacks_opendss_losses(tmp_path: Path) -> None:
    """``--no-ac-check`` with the voltage feedback: the feedback solved the base topology and
    the kept answer in OpenDSS in every scenario, so the summary's cards give their weighted
    losses and the reduction (read from result.json's feedback rows); before, the cards
    showed "-" for both although the numbers were in the same file."""
    _, result, html = _run(tmp_path, "--no-ac-check")
    fb = result["voltage_feedback"]
    assert "expected_losses_kw" not in result["scenarios"]  # the premise: no check
    base = fb["iterations"][0]
    kept = fb["iterations"][fb["kept_iteration"]]
    assert base["topology"] == "base" and kept["open_switches"] == result["open_switches"]
    summary = _section(html, "summary")
    before, after = base["opendss_expected_losses_kw"], kept["opendss_expected_losses_kw"]
    assert f"{before:.2f} kW" in summary and f"{after:.2f} kW" in summary
    assert f"{(before - after) / before * 100:.2f} %" in summary
    assert "in the voltage feedback" in summary
