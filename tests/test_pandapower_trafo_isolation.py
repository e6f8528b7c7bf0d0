"""A switchable pandapower transformer with a breaker on each side is taken out at both
breakers (user test ut_core2 #2): opened at one breaker only, it stayed magnetised from the
other side, so its iron losses counted in the answer and in the "proven" bound (a SimBench
net: 417.28 kW where the transformer taken out gives 403.25 kW). The independent truth is
pandapower's own ``runpp`` of the net with the switches set by hand, for every radial state.

The net: a 110 kV source bus, two transformers of different types in parallel to one 20 kV
busbar (each with a breaker at its hv and at its lv bus), a 20 kV cable feeder with loads. One
transformer must be out (radiality); which one, pandapower decides by the losses."""

from __future__ import annotations

import copy
from typing import Any

import pandapower as pp
import pytest

from feederopt import load, solve

LINE_TYPE = "NA2XS2Y 1x185 RM/25 12/20 kV"
TYPES = ("25 MVA 110/20 kV", "40 MVA 110/20 kV")


def _net() -> Any:
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0, name="HV")
    mv = pp.create_bus(net, 20.0, name="MV busbar")
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    for k, std in enumerate(TYPES):
        tr = pp.create_transformer(net, hv, mv, std_type=std, name=f"T{k + 1}")
        pp.create_switch(net, hv, tr, et="t", closed=True, name=f"T{k + 1} CB HV")
        pp.create_switch(net, mv, tr, et="t", closed=True, name=f"T{k + 1} CB MV")
    prev = mv
    for i in range(4):
        bus = pp.create_bus(net, 20.0, name=f"F{i + 1}")
        pp.create_line(net, prev, bus, 1.5, LINE_TYPE)
        pp.create_load(net, bus, p_mw=0.8, q_mvar=0.2)
        prev = bus
    return net


def _losses_kw(net: Any, opened: list[int]) -> float:
    """pandapower's losses [kW] (lines and transformers) with the switches ``opened`` open."""
    n = copy.deepcopy(net)
    n.switch.loc[opened, "closed"] = False
    pp.runpp(n)
    return 1e3 * float(n.res_line.pl_mw.sum() + n.res_trafo.pl_mw.sum())


def test_an_opened_transformer_is_isolated_at_both_breakers() -> None:
    net = _net()
    # switches 0, 1 are T1's (hv, mv), 2, 3 are T2's
    both = {0: _losses_kw(net, [0, 1]), 1: _losses_kw(net, [2, 3])}
    one_end = {0: _losses_kw(net, [0]), 1: _losses_kw(net, [2])}
    for k in (0, 1):  # the premise: at one breaker, the iron losses stay
        assert one_end[k] > both[k] + 1.0
    best = min(both, key=lambda k: both[k])
    r = solve(load(net), time_limit=60)
    assert r.status.value == "optimal"
    assert [b["id"] for b in r.open_branches] == [f"trafo:{best}"]
    operated = r.open_branches[0]["operated_by"]
    assert f"T{best + 1} CB HV" in operated and f"T{best + 1} CB MV" in operated
    assert r.ac_check is not None
    assert r.ac_check.losses_kw == pytest.approx(both[best], abs=1e-4)
