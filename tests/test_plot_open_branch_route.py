"""An open branch is not drawn straight through a bus it does not connect (user test ut_3ph
#6: the open tie b3-b5 crossed bus s1, reading as a connection there)."""

from __future__ import annotations

import numpy as np
import polars as pl

from feederopt.report.plot import _distances, branch_path, clearance, grid_figure


def _segment_distance(point: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    """Distance from ``point`` to the segment p-q, by hand (projection clipped to [0, 1])."""
    d = q - p
    s = min(max(float(np.dot(point - p, d) / np.dot(d, d)), 0.0), 1.0)
    return float(np.hypot(*(point - (p + s * d))))


def test_distances_against_hand_projection() -> None:
    path = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]])
    pts = np.array([[1.0, 1.0], [3.0, 1.0], [-1.0, 0.0], [1.0, 0.0]])
    want = [min(_segment_distance(x, path[0], path[1]), _segment_distance(x, path[1], path[2]))
            for x in pts]
    np.testing.assert_allclose(_distances(pts, path), want)
    assert list(np.round(want, 12)) == [1.0, 1.0, 1.0, 0.0]


def test_branch_path_clears_a_bus_on_the_straight_line() -> None:
    pos = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, -1.0]])
    gap = clearance(pos)
    path = branch_path(pos, 0, 2, gap)
    assert np.allclose(path[0], pos[0]) and np.allclose(path[-1], pos[2])
    assert _distances(pos[[1]], path)[0] >= gap
    # the bend keeps clear of the bus below as well
    assert _distances(pos[[3]], path)[0] >= gap
    # nothing in the way: the straight line
    clear = branch_path(pos, 1, 3, gap)
    assert np.allclose(clear[:, 0], 1.0)


def test_grid_figure_bends_the_open_tie_and_puts_its_marker_on_it() -> None:
    buses = pl.DataFrame({"id": ["s1", "b3", "b4", "b5"], "is_source": [True, False, False,
                                                                         False]})
    branches = pl.DataFrame({"id": ["l1", "l2", "l3", "tie"],
                             "from_bus": ["b3", "s1", "b3", "b3"],
                             "to_bus": ["s1", "b5", "b4", "b5"],
                             "closed": [True, True, True, False],
                             "switchable": [False, False, False, True]})
    # b3 - s1 - b5 on one line: the tie b3-b5 runs straight through the source s1
    pos = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, -1.0], [2.0, 0.0]])
    fig = grid_figure(buses, branches, pos)
    ax = fig.axes[0]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1
    drawn = np.column_stack(dashed[0].get_data()).astype(float)
    assert _distances(pos[[0]], drawn)[0] >= clearance(pos)
    # the hollow square of the open branch sits on the drawn curve, not at the chord's middle
    hollow = next(c for c in ax.collections if c.get_label() == "open branch")
    marker = np.asarray(hollow.get_offsets())[0]
    assert _distances(marker[None, :], drawn)[0] < 1e-9
    assert np.hypot(*(marker - pos[[1, 3]].mean(axis=0))) > 0.1


def test_grid_figure_labels_open_branches_by_id_at_their_marker() -> None:
    """User test ut_research #6: a printed figure must match the open-branch list."""
    buses = pl.DataFrame({"id": ["s1", "b3", "b4", "b5"], "is_source": [True, False, False,
                                                                         False]})
    branches = pl.DataFrame({"id": ["l1", "l2", "l3", "tie", "tie2"],
                             "from_bus": ["b3", "s1", "b3", "b3", "b4"],
                             "to_bus": ["s1", "b5", "b4", "b5", "b5"],
                             "closed": [True, True, True, False, False],
                             "switchable": [False, False, True, True, True]})
    pos = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, -1.0], [2.0, 0.0]])
    ax = grid_figure(buses, branches, pos).axes[0]
    hollow = next(c for c in ax.collections if c.get_label() == "open branch")
    markers = np.asarray(hollow.get_offsets())
    labels = {t.get_text(): np.asarray(t.xy, float) for t in ax.texts
              if t.get_text() in {"l1", "l2", "l3", "tie", "tie2"}}
    assert set(labels) == {"tie", "tie2"}  # the open ones only, closed l3 has no label
    for k, name in enumerate(["tie", "tie2"]):
        assert np.allclose(labels[name], markers[k])


def test_grid_legend_names_only_what_is_drawn() -> None:
    """User test ut_fresh: a meshed answer (nothing open) showed "open branch" in the legend.
    The legend's entries are those of the figure's branches: no open branch, no entry."""
    buses = pl.DataFrame({"id": ["s1", "b3", "b4"], "is_source": [True, False, False]})
    branches = pl.DataFrame({"id": ["l1", "l2", "l3"], "from_bus": ["s1", "b3", "b4"],
                             "to_bus": ["b3", "b4", "s1"], "closed": [True, True, True],
                             "switchable": [False, True, False]})
    pos = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, -1.0]])
    ax = grid_figure(buses, branches, pos).axes[0]
    legend = ax.get_legend()
    names = [t.get_text() for t in legend.get_texts()] if legend is not None else []
    assert "open branch" not in names
    assert "closed switch" in names  # l2 is a closed switch, drawn
