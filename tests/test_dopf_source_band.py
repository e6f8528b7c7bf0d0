"""A source OLTC holds its own bus within that bus's voltage band (user test ut_dopfres #1).

The source OLTC's secondary side is the source bus: at ratio ``n`` it holds ``v_set x n``,
which the bus's own ``v_min_pu..v_max_pu`` bounds like any other bus's voltage. Before the fix
the DOPF took the tap range alone (0.95..1.05 on a bus banded 1.0..1.0 chose 1.05: "optimal",
then the AC check broke the limit at the source).

Reference: pandapower's Newton-Raphson power flow on a net built here by hand from the tiny
feeder's tables (lines in Ohm, loads in MW), by brute force over every radial topology and every
tap position of the range: the answer is the least-loss pair whose every bus, the source's
included, lies within its band.
"""

from __future__ import annotations

import itertools
import math

import pandapower as pp
import polars as pl
import pytest

import feederopt
from dopf_grid import device_tables
from feederopt.network import InputError, Network
from feederopt.network.devices import Control, per_unit_devices
from feederopt.network.perunit import to_per_unit

#: The tiny feeder's tap range (0.95..1.05, step 0.025) and the source's own band.
RATIOS = (0.95, 0.975, 1.0, 1.025, 1.05)
SOURCE_BAND = (0.95, 1.0)


def tables(source_band: tuple[float, float] = SOURCE_BAND) -> dict[str, pl.DataFrame]:
    """The tiny feeder with its source OLTC only (no bank, generator or flexible load), every
    load bus banded 0.95..1.05 and the source bus ``source_band``."""
    t = device_tables()
    src = pl.col("id") == "s"
    t["buses"] = t["buses"].with_columns(
        pl.when(src).then(source_band[0]).otherwise(0.95).alias("v_min_pu"),
        pl.when(src).then(source_band[1]).otherwise(1.05).alias("v_max_pu"))
    t["loads"] = t["loads"].with_columns(pl.lit(0.0).alias("flex_share"))
    del t["shunts"], t["generators"]
    return t


def runpp(t: dict[str, pl.DataFrame], opened: str, ratio: float) -> tuple[float, dict]:
    """pandapower's losses [kW] and voltages of the tiny feeder with ``opened`` open and the
    source at ``ratio`` p.u. (lines of 1 km, the ideal switch sw1 a bus-bus switch)."""
    net = pp.create_empty_network()
    bus = {b: pp.create_bus(net, vn_kv=12.66, name=b) for b in t["buses"]["id"]}
    pp.create_ext_grid(net, bus["s"], vm_pu=ratio)
    for r in t["branches"].iter_rows(named=True):
        if r["kind"] == "switch":
            pp.create_switch(net, bus[r["from_bus"]], bus[r["to_bus"]], et="b", closed=True)
            continue
        pp.create_line_from_parameters(
            net, bus[r["from_bus"]], bus[r["to_bus"]], length_km=1.0,
            r_ohm_per_km=r["r_ohm"], x_ohm_per_km=r["x_ohm"], c_nf_per_km=0.0, max_i_ka=1.0,
            name=r["id"], in_service=r["id"] != opened)
    for r in t["loads"].iter_rows(named=True):
        pp.create_load(net, bus[r["bus"]], p_mw=r["p_mw"], q_mvar=r["q_mvar"])
    pp.runpp(net)
    vm = dict(zip(net.bus["name"], net.res_bus["vm_pu"], strict=True))
    return 1000 * float(net.res_line["pl_mw"].sum()), vm


def brute_force(t: dict[str, pl.DataFrame]) -> tuple[float, str, float]:
    """The least AC losses over the radial topologies (open one of l2, l3, tie1) and the tap
    positions whose every bus is within its band."""
    lo = dict(zip(t["buses"]["id"], t["buses"]["v_min_pu"], strict=True))
    hi = dict(zip(t["buses"]["id"], t["buses"]["v_max_pu"], strict=True))
    best = (math.inf, "", math.nan)
    for opened, ratio in itertools.product(("l2", "l3", "tie1"), RATIOS):
        losses, vm = runpp(t, opened, ratio)
        if all(lo[b] - 1e-6 <= v <= hi[b] + 1e-6 for b, v in vm.items()) and losses < best[0]:
            best = (losses, opened, ratio)
    return best


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_the_source_oltc_keeps_its_bus_within_its_band(method: str) -> None:
    t = tables()
    losses, opened, ratio = brute_force(t)
    # Unbanded, the highest ratio would win (losses fall with the voltage): the band binds.
    assert runpp(t, opened, 1.05)[0] < losses
    assert ratio == pytest.approx(1.0)
    result = feederopt.solve(Network.from_tables(**t, name="band").check(), method,
                             controls="taps", time_limit=60)
    d = result.to_dict()
    assert d["status"] == "optimal"
    oltc = next(x for x in d["devices"] if x["kind"] == "oltc")
    assert oltc["ratio_pu"] == pytest.approx(ratio)
    assert oltc["position"] == 0
    assert result.ac_check is not None and result.ac_check.within_limits
    assert result.ac_check.losses_kw == pytest.approx(losses, rel=1e-4)
    assert opened in set(result.branches.filter(~pl.col("closed"))["id"])


def test_a_band_that_no_tap_position_meets_is_a_typed_problem() -> None:
    t = tables(source_band=(1.01, 1.02))  # between the positions 1.0 and 1.025
    with pytest.raises(InputError) as err:
        Network.from_tables(**t, name="bad").check()
    found = [(p.kind.value, p.component, p.field, p.ids) for p in err.value.problems]
    assert ("invalid_value", "buses", "tap_min_pu", ("s",)) in found


def test_the_solve_band_limits_the_positions_too() -> None:
    net = Network.from_tables(**tables(source_band=(0.95, 1.05)), name="band").check()
    pu = to_per_unit(net.with_limits(v_min_pu=0.96, v_max_pu=1.03))
    dev = per_unit_devices(net, pu, frozenset({Control.TAPS}))
    assert list(dev.tap_ratios[0]) == pytest.approx([0.975, 1.0, 1.025])
    assert list(dev.tap_moves(0)) == [-1, 0, 1]
    pu = to_per_unit(net.with_limits(v_min_pu=1.01, v_max_pu=1.02))
    with pytest.raises(InputError) as err:
        per_unit_devices(net, pu, frozenset({Control.TAPS}))
    assert err.value.problems[0].ids == ("s",)
