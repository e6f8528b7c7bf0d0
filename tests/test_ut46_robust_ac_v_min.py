"""The robust report's extreme-point table shows the AC power flow's lowest voltage and its bus
(user test ut46_pyapi: it showed "AC V max" only, while the lowest voltage is what a robust
feeder breaks first).

The run is the CLI's on netbuild's tiny feeder with +-50 % on every load
(:mod:`test_fixb_report_scenarios`'s). Independent truth: pandapower's Newton-Raphson on a net
built there by hand, at the result's topology and the extreme point's loads (every load at
1.5 x nominal: the row naming every load ``+``).
"""

from __future__ import annotations

from pathlib import Path

from test_fixb_report_scenarios import (
    _run,
    nominal_loads,
    pandapower_point,
    records,
    section,
    tables,
)


def test_every_extreme_point_row_has_the_ac_v_min_and_its_bus(tmp_path: Path) -> None:
    doc, page = _run(tmp_path, "--robust", "0.5")
    open_ids = {b["id"] for b in doc["open_branches"]}
    net = pandapower_point(open_ids, {k: (1.5 * p, 1.5 * q)
                                      for k, (p, q) in nominal_loads().items()})
    vm = dict(zip(net.bus["name"], net.res_bus.vm_pu, strict=True))
    points = tables(section(page, "robust"))[0]
    rows = {r["deviating loads (others at nominal)"]: r for r in records(points)}
    every_up = ", ".join(f"{load}+" for load in doc["robust_summary"]["uncertain_loads"])
    cell = rows[every_up]["AC V min [p.u.] (bus)"]
    value, bus = cell.split(" (")
    assert abs(float(value) - min(vm.values())) <= 6e-5, cell
    assert bus.rstrip(")") in {b for b, v in vm.items() if v <= min(vm.values()) + 1e-9}
    assert abs(float(rows[every_up]["AC V max [p.u.]"]) - max(vm.values())) <= 6e-5
