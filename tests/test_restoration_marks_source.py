"""restoration.png marks the source bus (user test ut49_report #4: ``restore zhang13
--broken 2,11,15`` drew no mark at the source).

Truth: the case's own bus file (``cases/data/zhang13/buses.csv``): the bus with
``is_source`` true and its ``x``, ``y``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

import feederopt.cases
from feederopt.cases import load
from feederopt.report.resilience import restoration_figure

BUSES_CSV = Path(feederopt.cases.__file__).parent / "data" / "zhang13" / "buses.csv"


def test_restoration_figure_marks_the_source() -> None:
    with BUSES_CSV.open() as fh:
        rows = [r for r in csv.DictReader(fh) if r["is_source"].lower() == "true"]
    assert len(rows) == 1
    src = rows[0]
    fig = restoration_figure(load("zhang13"), {"case": "zhang13", "broken": ["2", "11", "15"],
                                               "operation": {}})
    ax = fig.axes[0]
    marks = [c for c in ax.collections if c.get_gid() == f"source:{src['id']}"]
    assert len(marks) == 1
    assert np.allclose(marks[0].get_offsets()[0], (float(src["x"]), float(src["y"])))
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "source" in labels
