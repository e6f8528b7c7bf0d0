"""The schedule report's subtitle follows the run (``feederopt report`` on a 4-hour
deterministic schedule said "24-hour robust dynamic reconfiguration")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feederopt.cli import app
from feederopt.report.schedule import schedule_title

runner = CliRunner()


def test_title_of_a_short_deterministic_schedule(tmp_path: Path) -> None:
    out = tmp_path / "s"
    res = runner.invoke(app, ["schedule", "case33bw", "--hours", "2", "--no-ac-check",
                              "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "result.json").read_text())
    assert doc["hours"] == 2 and doc["method"] == "deterministic"  # the premise
    page = (out / "report.html").read_text()
    # one topology for the day (no --hourly-topology): not "dynamic"
    assert "2-hour deterministic reconfiguration (one topology for the day)" in page
    assert "dynamic" not in schedule_title(doc)
    assert "24-hour" not in page and "robust" not in schedule_title(doc)


def test_title_names_robust_and_hourly_runs() -> None:
    ess = {"ess_soc_mwh": {"S1": [0.5]}}
    assert schedule_title({"hours": 24, "method": "ccg", "settings": {"hourly": False},
                           "series": ess}) == (
        "24-hour robust (C&CG) reconfiguration (one topology for the day) with storage "
        "(seed 004)")
    assert schedule_title({"hours": 3, "method": "extensive", "settings": {"hourly": True},
                           "series": ess}) \
        == ("3-hour robust (every extreme point) dynamic reconfiguration (a topology per hour) "
            "with storage (seed 004)")


def test_title_says_what_the_schedule_has() -> None:
    # user test ut_sched4 #8: a net without devices was "with storage"
    base = {"hours": 4, "method": "deterministic", "settings": {"hourly": False, "eps": 0.0}}
    assert schedule_title({**base, "series": {"dg_mw": {}, "ess_soc_mwh": {}, "ev_mw": {},
                                              "renewable_mw": {}}}).endswith(
        "without devices (seed 004)")
    full = {"dg_mw": {"G": [1]}, "ess_soc_mwh": {"S": [1]}, "renewable_mw": {"PV": [1]},
            "ev_mw": {"EV": [1]}}
    assert schedule_title({**base, "series": full, "settings": {"eps": 0.1}}).endswith(
        "with fossil DG, storage, PV/wind, EV charging and DSM (seed 004)")
    assert schedule_title({**base, "series": {"ev_mw": {"EV": [1]}}}).endswith(
        "with EV charging (seed 004)")


def test_hourly_figure_has_the_losses_panel(tmp_path: Path) -> None:
    """The module docstring promises losses per hour in hourly.png (user test ut_sched: eight
    panels, none for losses): a panel draws the result's hourly ``losses_mw``, whose sum is
    the reported daily losses."""
    import numpy as np

    from feederopt.report.schedule import hourly_figure

    out = tmp_path / "r.json"
    res = runner.invoke(app, ["schedule", "case33bw", "--hours", "3", "--no-ac-check",
                              "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    losses = np.asarray(doc["series"]["losses_mw"])
    # the series is rounded to 1e-6 MW per hour
    assert losses.sum() == pytest.approx(doc["nominal"]["losses_mwh"], abs=1e-6 * len(losses))
    assert losses.min() > 0  # the panel has something to show
    fig = hourly_figure(doc)
    (ax,) = [a for a in fig.axes if a.get_visible() and a.get_title().startswith("losses")]
    assert "[MW]" in ax.get_title()
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "model r(P²+Q²)"]
    assert np.allclose(line.get_ydata()[:-1], losses)  # steps: the last hour drawn to its end


def test_the_figure_title_clears_the_panels_titles(tmp_path: Path) -> None:
    """User test ut_sched3 #6: tight_layout left the suptitle out, and it ran over the top
    panels' titles. Drawn, the suptitle's box lies above every panel title's."""
    from feederopt.report.schedule import hourly_figure

    out = tmp_path / "r.json"
    res = runner.invoke(app, ["schedule", "case33bw", "--hours", "2", "--dsm", "0.1",
                              "--no-ac-check", "--json", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    fig = hourly_figure(json.loads(out.read_text()))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    top = fig._suptitle.get_window_extent(renderer)  # type: ignore[union-attr]
    for ax in fig.axes:
        box = ax.title.get_window_extent(renderer)
        assert box.y1 <= top.y0 + 0.5, ax.get_title()
