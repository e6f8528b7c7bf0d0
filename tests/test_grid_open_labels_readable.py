"""An open branch's id on the grid figure sits on an opaque box above every line, so that
another open branch's dashed path does not run through it (user test ut49_report #4: on
case33bw the red path of open line 14 hid the label of open branch 9).

Truth: the hand-made grid: two open branches whose paths cross at the first one's marker.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib.colors import to_rgba

from feederopt.report.plot import grid_figure

BUSES = pl.DataFrame({"id": ["s", "a", "b", "c", "d"],
                      "is_source": [True, False, False, False, False],
                      "vm_pu": [1.0, 0.99, 0.98, 0.97, 0.96]})
# a-d and b-c open, crossing; s-a, s-b, a-c, b-d closed
BRANCHES = pl.DataFrame({"id": ["1", "2", "3", "4", "9", "14"],
                         "from_bus": ["s", "s", "a", "b", "a", "b"],
                         "to_bus": ["a", "b", "c", "d", "d", "c"],
                         "closed": [True, True, True, True, False, False],
                         "switchable": [False, False, False, False, True, True]})
POS = np.array([[0.0, 2.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, 0.0], [1.0, 0.0]])


def test_open_labels_are_boxed_above_the_lines() -> None:
    ax = grid_figure(BUSES, BRANCHES, POS).axes[0]
    top_line = max(ln.get_zorder() for ln in ax.lines)
    for bid in ("9", "14"):
        label = next(t for t in ax.texts if t.get_gid() == f"open-label:{bid}")
        assert label.get_text() == bid
        assert label.get_zorder() > top_line
        box = label.get_bbox_patch()
        assert box is not None
        r, g, b, a = to_rgba(box.get_facecolor())
        assert (r, g, b) == (1.0, 1.0, 1.0) and a * box.get_alpha() >= 0.8
