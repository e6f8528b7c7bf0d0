"""The microgrid figure lays the feeder out as its normal topology from the substation, the
same for every plan (user test ut_3ph #8: rooted at the grid-forming DERs over the plan's own
switch states, Iowa 240 came out with edges across the whole width). Drawn without
coordinates, every normally closed branch joins two consecutive depths and the substation's
bus is on top."""

from __future__ import annotations

import numpy as np
import polars as pl

from feederopt.api_partition import partition
from feederopt.cases import load_three_phase
from feederopt.report.partition import microgrid_figure


def test_layout_is_the_normal_tree_from_the_substation() -> None:
    net = load_three_phase("ieee37mod")
    net = net.replace_tables(buses=net.buses.drop([c for c in ("x", "y")
                                                   if c in net.buses.columns]))
    res = partition("ieee37mod", time_limit_s=120, voltage_feedback=False)
    doc = res.to_dict()
    fig = microgrid_figure(net, doc)
    ax = fig.axes[0]
    (buses,) = [c for c in ax.collections if c.get_gid() == "buses"]
    pos = np.asarray(buses.get_offsets())
    ids = [str(b) for b in net.buses["id"].to_list()]
    at = {b: pos[i] for i, b in enumerate(ids)}
    lines = net.lines.filter(pl.col("in_service") & ~pl.col("normally_open"))
    pairs = list(zip(lines["from_bus"].to_list(), lines["to_bus"].to_list(), strict=True))
    pairs += list(zip(net.transformers["from_bus"].to_list(),
                      net.transformers["to_bus"].to_list(), strict=True))
    for a, b in pairs:
        assert abs(at[str(a)][1] - at[str(b)][1]) == 1.0, (a, b)
    src = str(net.sources["bus"][0])
    assert at[src][1] == pos[:, 1].max()
