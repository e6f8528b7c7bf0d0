"""User test ut35 #3: in microgrids.png the colour of a one-bus microgrid (ieee13mod's 801,
microgrid 1) was covered entirely by its grid-forming star, so its legend entry appeared
nowhere in the figure; restoration.png listed "backup DG" in a run without one.

The truths: the rendered figure's own pixels (a microgrid's colour outside the legend box),
and the result documents (tests/data/result_kinds: which switches are closed, which buses
host backup DGs, which lines are broken or hardened, which buses shed load) for the legend's
entries, read here from the JSON, not from the figure code."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import to_rgb

from feederopt.cases import load, load_three_phase
from feederopt.report.partition import microgrid_figure, palette
from feederopt.report.resilience import plan_figure, restoration_figure

KINDS = Path(__file__).parent / "data" / "result_kinds"


def _doc(kind: str) -> dict[str, Any]:
    return json.loads((KINDS / kind / "result.json").read_text(encoding="utf-8"))


def _pixels_outside_legend(fig: Any, colour: str) -> int:
    """How many pixels of the rendered ``fig`` have ``colour`` (within 3 %), outside the
    legend's box."""
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float) / 255
    box = fig.axes[0].get_legend().get_window_extent()
    h = img.shape[0]
    outside = np.ones(img.shape[:2], bool)
    outside[max(int(h - box.y1) - 2, 0):int(h - box.y0) + 2,
            max(int(box.x0) - 2, 0):int(box.x1) + 2] = False
    near = np.abs(img - np.array(to_rgb(colour))).max(axis=2) < 0.03
    return int((near & outside).sum())


def _labels(legend: Any) -> set[str]:
    return {t.get_text() for t in legend.get_texts()}


def test_every_microgrid_colour_is_seen_outside_the_legend() -> None:
    doc = _doc("partition")
    comps = {int(b["component"]): b["buses"] for b in doc["blocks"] if b["energised"]}
    assert comps[1] == ["801"]  # the one-bus microgrid, its bus a grid-forming DER's
    fig = microgrid_figure(load_three_phase("ieee13mod"), doc)
    for k in comps:
        assert f"microgrid {k}" in _labels(fig.axes[0].get_legend())
        assert _pixels_outside_legend(fig, palette(k)) > 50, k  # microgrid 1: 0 before


def test_the_microgrid_legend_lists_only_what_is_drawn() -> None:
    doc = _doc("partition")
    assert doc["closed_switches"] == []  # the plan closes no switch
    labels = _labels(microgrid_figure(load_three_phase("ieee13mod"), doc).axes[0].get_legend())
    assert "closed switch" not in labels  # listed before
    assert {"open switch (dashed)", "grid-forming DER", "de-energised"} <= labels


def _expected(net: Any, ops: list[tuple[dict[str, Any], list[str]]], hardened: set[str],
              sites: list[str]) -> set[str]:
    """The legend entries the documents call for: a line kind that some operation has, a
    shedding bus, a backup DG, the source (a network with a source bus: ut49_report #4)."""
    out = {"hardened line"} if hardened else set()
    if any(net.buses["is_source"].to_list()):
        out.add("source")
    for op, broken in ops:
        for line in (str(b) for b in net.branches["id"].to_list()):
            if line in broken and line not in hardened:  # a hardened line survives
                out.add("broken line")
            elif line in op.get("closed_lines", []):
                out.add("closed line")
            else:
                out.add("open line")
        if any(v > 1e-6 for v in (op.get("shed_per_bus_kw") or {}).values()):
            out.add("bus shedding load")
    if sites:
        out.add("backup DG")
    return out


def test_the_restoration_legend_lists_only_what_is_drawn() -> None:
    doc = _doc("restore")
    net = load("zhang13")
    assert doc["dg_sites"] == [] and doc["operation"]["shed_kw"] > 0
    labels = _labels(restoration_figure(net, doc).legends[0])
    assert "backup DG" not in labels  # listed before
    assert labels == _expected(net, [(doc["operation"], doc["broken"])], set(), [])
    with_dg = copy.deepcopy(doc)
    with_dg["dg_sites"] = ["13"]
    assert "backup DG" in _labels(restoration_figure(net, with_dg).legends[0])


def test_the_plan_legend_lists_only_what_is_drawn() -> None:
    doc = _doc("plan")
    net = load("zhang13")
    assert all(sc["operation"]["shed_kw"] == 0 for sc in doc["scenarios"])
    labels = _labels(plan_figure(net, doc).legends[0])
    assert "bus shedding load" not in labels  # listed before
    assert labels == _expected(net, [(sc["operation"], sc["broken"]) for sc in doc["scenarios"]],
                               set(doc["hardened"]), doc["dg_sites"])
