"""The grid and voltage-profile plots of a feeder behind a transformer (user test ut_core3 #3,
#4), on the SimBench pattern: the 110 kV source bus and the 20 kV busbar share the substation's
coordinates, and the transformer has a switch (so it is switchable).

#3: the transformer's switch marker sat exactly under the source's square (its midpoint is the
source's position), so whether it was open could not be seen; it is now drawn beside the
source, above it. Truth: the net's own tables (the source bus and its coordinates, the
transformer's buses); positions measured in display pixels of the drawn figure.

#4: the voltage profile put the 110 kV bus in the 20 kV feeder's line; it now has one panel per
level. Truth: pandapower's ``runpp`` in the test at the answer's topology (``res_bus.vm_pu``)
and the net's ``bus.vn_kv``.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.report import plot
from feederopt.report.plot import grid_figure, voltage_profile_figure

sys.path.insert(0, str(Path(__file__).parent))
from test_holds import _net

#: The source square's size [points^2] (120 before it was named).
SOURCE_MARKER_SIZE = getattr(plot, "SOURCE_MARKER_SIZE", 120)
#: Bus coordinates: the HV bus (0) and the MV busbar (1) at the same place.
XY = {0: (0.0, 0.0), 1: (0.0, 0.0), 2: (1, -1), 3: (2, -1.5), 4: (3, -2), 5: (4, -2.5),
      6: (-1, -1), 7: (-2, -1.5), 8: (-3, -2), 9: (-4, -2.5)}


def _substation_net() -> Any:
    net = _net()
    net.bus["geo"] = [f'{{"type":"Point","coordinates":[{XY[b][0]},{XY[b][1]}]}}'
                      for b in net.bus.index]
    pp.create_switch(net, int(net.trafo.hv_bus[0]), 0, et="t", closed=True, name="TS")
    return net


@pytest.fixture(scope="module")
def solved() -> tuple[Any, Any]:
    net = _substation_net()
    return net, feederopt.solve(net, time_limit=60)


def _px(ax: Any, xy: tuple[float, float]) -> np.ndarray:
    return np.asarray(ax.transData.transform(np.array([xy], float)))[0]


@pytest.mark.parametrize("trafo_closed", [True, False])
def test_a_switch_at_the_source_is_drawn_beside_the_source_square(trafo_closed: bool) -> None:
    """Hand tables: source s and busbar b at the same place, the switchable transformer s-b
    (closed or open), a feeder b-c-d and a tie d-s."""
    buses = pl.DataFrame({"id": ["s", "b", "c", "d"], "is_source": [True, False, False, False],
                          "x": [0.0, 0.0, 1.0, 2.0], "y": [0.0, 0.0, -1.0, -1.0],
                          "vm_pu": [1.0, 0.99, 0.98, 0.97]})
    branches = pl.DataFrame({"id": ["T", "l1", "l2", "tie"], "from_bus": ["s", "b", "c", "d"],
                             "to_bus": ["b", "c", "d", "s"],
                             "closed": [trafo_closed, True, True, not trafo_closed],
                             "switchable": [True, False, True, True]})
    pos = buses.select("x", "y").to_numpy()
    fig = grid_figure(buses, branches, pos)
    ax = fig.axes[0]
    fig.canvas.draw()
    source_px = _px(ax, (0.0, 0.0))
    source = next(c for c in ax.collections if c.get_label() == "source")
    marker = [c for c in ax.collections if c.get_gid() == "source-switch:T"]
    assert len(marker) == 1
    at = marker[0].get_offset_transform().transform(marker[0].get_offsets())[0]
    half_side_px = np.sqrt(SOURCE_MARKER_SIZE) / 2 * fig.dpi / 72
    # outside the square (its half-side, plus the marker's own), and drawn above it
    assert np.max(np.abs(at - source_px)) > half_side_px + 2 * fig.dpi / 72
    assert marker[0].get_zorder() > source.get_zorder()
    if trafo_closed:
        assert np.allclose(marker[0].get_facecolor()[0][:3], (0.17, 0.63, 0.17), atol=0.02)
    else:  # hollow (white) with a red edge
        assert np.allclose(marker[0].get_facecolor()[0][:3], (1, 1, 1))
    # the tie at the source is long on the drawing: its marker stays at its midpoint
    assert not [c for c in ax.collections if c.get_gid() == "source-switch:tie"]


def test_the_solved_simbench_like_net_shows_its_transformer_switch(solved: tuple[Any, Any],
                                                                   tmp_path: Path) -> None:
    net, result = solved
    trafo = f"trafo:{int(net.trafo.index[0])}"
    assert trafo in result.switches["id"].to_list()  # switchable through its switch element
    from feederopt.report.plot import coordinates, plot_grid

    out = plot_grid(result, tmp_path / "grid.png")  # the PNG that `solve --out` writes

    fig = grid_figure(result.buses, result.branches,
                      coordinates(result.network.buses, result.network.branches))
    ax = fig.axes[0]
    fig.canvas.draw()
    hv = XY[int(net.ext_grid.bus[0])]
    marker = [c for c in ax.collections if c.get_gid() == f"source-switch:{trafo}"]
    assert len(marker) == 1
    at = marker[0].get_offset_transform().transform(marker[0].get_offsets())[0]
    assert np.max(np.abs(at - _px(ax, hv))) > np.sqrt(SOURCE_MARKER_SIZE) / 2 * fig.dpi / 72
    assert Path(out).stat().st_size > 0


def test_voltage_profile_has_one_panel_per_level_with_pandapowers_voltages(
        solved: tuple[Any, Any]) -> None:
    net, result = solved
    assert result.buses["vn_kv"].to_list() == [float(v) for v in net.bus.vn_kv]
    opened = {int(b["id"].split(":")[1]) for b in result.open_branches
              if b["id"].startswith("line:")}
    n = copy.deepcopy(net)
    n.switch.loc[n.switch.et == "l", "closed"] = [
        int(e) not in opened for e in n.switch.loc[n.switch.et == "l", "element"]]
    pp.runpp(n, numba=False)
    fig = voltage_profile_figure(result.buses)
    panels = {ax.get_gid(): ax for ax in fig.axes}
    assert set(panels) == {"level:20", "level:110"}
    assert fig.axes[0].get_gid() == "level:20"  # the feeder's level first (and widest)
    assert fig.axes[0].get_position().width > 2 * fig.axes[1].get_position().width
    for kv, ax in ((20.0, panels["level:20"]), (110.0, panels["level:110"])):
        buses = [int(b) for b in net.bus.index[net.bus.vn_kv == kv]]
        line = next(ln for ln in ax.get_lines() if ln.get_label() == "AC power flow (true)")
        assert len(line.get_ydata()) == len(buses)
        assert np.allclose(line.get_ydata(), n.res_bus.vm_pu.loc[buses].to_numpy(), atol=1e-6)
        assert [t.get_text() for t in ax.get_xticklabels()] == [str(b) for b in buses]
    # the 20 kV axis is not stretched to the 110 kV bus's 1.02 p.u. set-point alone
    assert panels["level:20"].get_ylim()[0] > 0.85


def test_report_caption_names_the_levels(solved: tuple[Any, Any], tmp_path: Path) -> None:
    net, _ = solved
    pp.to_json(net, str(tmp_path / "net.json"))
    res = CliRunner().invoke(app, ["solve", str(tmp_path / "net.json"), "--out",
                                   str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["report", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "run" / "report.html").read_text()
    n20 = int((net.bus.vn_kv == 20.0).sum())
    assert f"the feeder&#x27;s 20 kV ({n20} buses) first, then 110 kV (1 bus) apart" in html \
        or f"the feeder's 20 kV ({n20} buses) first, then 110 kV (1 bus) apart" in html


def test_single_level_profile_keeps_one_panel() -> None:
    buses = pl.DataFrame({"id": ["a", "b", "c"], "vm_pu": [1.0, 0.99, 0.98],
                          "vn_kv": [12.66] * 3, "v_min_pu": [0.9] * 3, "v_max_pu": [1.1] * 3})
    fig = voltage_profile_figure(buses)
    assert len(fig.axes) == 1
    # an old result folder without vn_kv: one panel as before
    assert len(voltage_profile_figure(buses.drop("vn_kv")).axes) == 1
