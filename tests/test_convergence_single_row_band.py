"""A convergence plot of a one-row log draws the gap band between its bounds (user test
ut49_report #3: a robust run with one iteration plotted two dots and no band).

Truth: the bounds written into the hand-made log: the band's vertical extent is [lower,
upper] and it has a width.
"""

from __future__ import annotations

import numpy as np

from feederopt.report.plot import convergence_figure


def _band_extent(log: list[dict[str, float]]) -> tuple[float, float, float]:
    ax = convergence_figure(log).axes[0]
    bands = [c for c in ax.collections if c.get_label() == "gap"]
    assert len(bands) == 1
    xy = np.concatenate([p.vertices for p in bands[0].get_paths()])
    return float(np.ptp(xy[:, 0])), float(xy[:, 1].min()), float(xy[:, 1].max())


def test_one_row_draws_its_gap() -> None:
    width, low, high = _band_extent([{"iteration": 1, "lower_bound_kw": 120.0,
                                      "upper_bound_kw": 150.0, "elapsed_s": 3.0}])
    assert width > 0
    assert (low, high) == (120.0, 150.0)


def test_last_row_gap_shows() -> None:
    log = [{"iteration": 1, "lower_bound_kw": 100.0, "upper_bound_kw": 160.0, "elapsed_s": 1.0},
           {"iteration": 2, "lower_bound_kw": 130.0, "upper_bound_kw": 140.0, "elapsed_s": 2.0}]
    ax = convergence_figure(log).axes[0]
    band = next(c for c in ax.collections if c.get_label() == "gap")
    xy = np.concatenate([p.vertices for p in band.get_paths()])
    # past the last iteration (x = 2) the band still spans the last row's bounds
    right = xy[xy[:, 0] > 2.0]
    assert len(right) and right[:, 1].min() == 130.0 and right[:, 1].max() == 140.0
