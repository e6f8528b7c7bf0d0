"""The seeded synthetic MV feeder generator (feederopt.cases.synthetic)."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import polars as pl
import pytest

from feederopt.cases.synthetic import synthetic_feeder
from feederopt.network import Network, to_per_unit
from feederopt.network.topology import components_of, is_radial_forest


def _radial(net: Network) -> tuple[bool, str]:
    pu = to_per_unit(net)
    return is_radial_forest(pu.n_bus, pu.f, pu.t, ~pu.normally_open, pu.is_source)


def _feeder_labels(net: Network) -> np.ndarray:
    """Label of each bus's feeder: the closed tree with its source bus taken out."""
    pu = to_per_unit(net)
    keep = ~pu.normally_open & ~pu.is_source[pu.f] & ~pu.is_source[pu.t]
    return components_of(pu.n_bus, pu.f[keep], pu.t[keep])


def _pandapower_base_case(net: Network) -> Any:
    """AC power flow of the base case (normally-open ties open) with pandapower."""
    pp = pytest.importorskip("pandapower")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pn = pp.create_empty_network(sn_mva=1.0)
        buses = net.buses
        idx = pp.create_buses(
            pn, len(buses), vn_kv=buses["vn_kv"].to_numpy(), name=buses["id"].to_list()
        )
        index = dict(zip(buses["id"].to_list(), (int(i) for i in idx), strict=True))
        for row in buses.filter(pl.col("is_source")).iter_rows(named=True):
            pp.create_ext_grid(pn, index[row["id"]], vm_pu=row["v_set_pu"])
        br = net.branches.filter(~pl.col("normally_open"))
        pp.create_lines_from_parameters(
            pn,
            [index[b] for b in br["from_bus"]],
            [index[b] for b in br["to_bus"]],
            length_km=1.0,
            r_ohm_per_km=br["r_ohm"].to_numpy(),
            x_ohm_per_km=br["x_ohm"].to_numpy(),
            c_nf_per_km=0.0,
            max_i_ka=br["i_max_ka"].to_numpy(),
            name=br["id"].to_list(),
        )
        ld = net.loads
        pp.create_loads(
            pn,
            [index[b] for b in ld["bus"]],
            p_mw=ld["p_mw"].to_numpy(),
            q_mvar=ld["q_mvar"].to_numpy(),
        )
        pp.runpp(pn, numba=False)
    return pn


@pytest.mark.parametrize("n", [2, 3, 10, 57, 250, 301, 1000])
def test_exact_size_valid_and_radial(n: int) -> None:
    net = synthetic_feeder(n, seed=3)
    assert net.n_buses == n
    assert net.check() is net
    ok, why = _radial(net)
    assert ok, why
    assert net.name == f"synthetic{n}_s3"
    assert net.buses["id"].is_unique().all()
    assert net.branches["id"].is_unique().all()


def test_seeded_determinism() -> None:
    a = synthetic_feeder(500, seed=7)
    b = synthetic_feeder(500, seed=7)
    c = synthetic_feeder(500, seed=8)
    for key in ("buses", "branches", "loads"):
        assert getattr(a, key).equals(getattr(b, key)), key
    assert a.meta == b.meta
    assert not a.branches.equals(c.branches)
    assert c.name == "synthetic500_s8"


@pytest.mark.parametrize("n", [250, 500, 1000, 2000])
def test_ties_fraction_and_placement(n: int) -> None:
    net = synthetic_feeder(n, seed=0)
    br = net.branches
    ties = br.filter(pl.col("normally_open"))
    share = ties.height / br.height
    assert 0.05 <= share <= 0.10
    assert ties["switchable"].all()
    # No self-loop and no duplicate of any other branch (in either direction).
    assert (br["from_bus"] != br["to_bus"]).all()
    pairs = {frozenset(p) for p in zip(br["from_bus"], br["to_bus"], strict=True)}
    assert len(pairs) == br.height
    # Each tie closes a loop of at least four sections or joins two substations.
    pu = to_per_unit(net)
    closed = ~pu.normally_open
    tree = components_of(pu.n_bus, pu.f[closed], pu.t[closed])
    labels = _feeder_labels(net)
    tf, tt = pu.f[pu.normally_open], pu.t[pu.normally_open]
    assert not pu.is_source[tf].any() and not pu.is_source[tt].any()
    # Ties join different feeders (and substations when there are several) as well as laterals.
    assert (labels[tf] != labels[tt]).any()
    if net.meta["n_substations"] > 1:
        assert (tree[tf] != tree[tt]).any()
    # Ties join nearby buses: shorter than the span of the whole grid by far.
    xy = net.buses.select("x", "y").to_numpy()
    d = np.hypot(*(xy[tf] - xy[tt]).T)
    span = np.ptp(xy, axis=0).max()
    assert np.median(d) < 0.05 * span


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.10])
def test_tie_fraction_parameter(fraction: float) -> None:
    net = synthetic_feeder(400, seed=1, tie_fraction=fraction)
    share = net.branches["normally_open"].mean()
    assert share == pytest.approx(fraction, abs=0.005)
    assert net.check() is net


def test_substations_and_feeders() -> None:
    small = synthetic_feeder(250, seed=0)
    assert small.buses["is_source"].sum() == 1
    big = synthetic_feeder(1000, seed=0)
    assert big.buses["is_source"].sum() >= 2
    assert big.meta["n_substations"] == big.buses["is_source"].sum()
    src = big.buses.filter(pl.col("is_source"))
    assert (src["v_set_pu"] == 1.0).all()
    # Several feeders of about 40-80 buses.
    labels = _feeder_labels(big)
    pu = to_per_unit(big)
    sizes = np.bincount(labels[~pu.is_source])
    sizes = sizes[sizes > 0]
    assert len(sizes) == big.meta["n_feeders"] >= 10
    assert sizes.min() >= 35 and sizes.max() <= 85
    three = synthetic_feeder(250, seed=0, n_substations=3)
    assert three.buses["is_source"].sum() == 3
    ok, why = _radial(three)
    assert ok, why


def test_typical_ranges() -> None:
    net = synthetic_feeder(1000, seed=2)
    br = net.branches.filter(~pl.col("normally_open"))
    trunk = br.filter(pl.col("i_max_ka") == 0.4)
    lateral = br.filter(pl.col("i_max_ka") == 0.2)
    assert trunk.height + lateral.height == br.height
    assert 0.2 * br.height < trunk.height < 0.5 * br.height
    # Trunk conductors are heavier: lower resistance per unit length (x/r tells the kind).
    ratio_trunk = (trunk["x_ohm"] / trunk["r_ohm"]).median()
    ratio_lateral = (lateral["x_ohm"] / lateral["r_ohm"]).median()
    assert ratio_trunk > ratio_lateral
    assert (br["r_ohm"] > 0).all() and (br["x_ohm"] > 0).all()
    loads = net.loads
    assert loads["p_mw"].min() >= 0.020 - 1e-9
    assert loads["p_mw"].max() <= 0.300 + 1e-9
    pf = loads["p_mw"] / (loads["p_mw"] ** 2 + loads["q_mvar"] ** 2).sqrt()
    assert pf.min() >= 0.85 - 1e-3 and pf.max() <= 0.98 + 1e-3
    assert 0.6 * (net.n_buses - 2) < loads.height < net.n_buses  # not every bus is loaded
    assert (net.buses["v_min_pu"] == 0.9).all() and (net.buses["v_max_pu"] == 1.1).all()
    assert net.buses["x"].is_not_null().all() and net.buses["y"].is_not_null().all()


def test_switchable_parameter() -> None:
    every = synthetic_feeder(300, seed=4)
    assert every.branches["switchable"].all()
    some = synthetic_feeder(300, seed=4, all_switchable=False)
    br = some.branches
    assert br.filter(pl.col("normally_open"))["switchable"].all()
    share = br["switchable"].mean()
    assert 0.15 < share < 0.6
    # Same grid otherwise.
    assert every.buses.equals(some.buses)
    assert every.loads.equals(some.loads)


@pytest.mark.parametrize("n", [250, 1000])
def test_base_case_ac_power_flow(n: int) -> None:
    net = synthetic_feeder(n, seed=0)
    pn = _pandapower_base_case(net)
    assert pn.converged
    vm = pn.res_bus["vm_pu"].to_numpy()
    assert 0.9 <= vm.min() <= 0.97
    assert vm.min() == pytest.approx(net.meta["base_v_min_pu"], abs=1e-4)
    losses = float(pn.res_line["pl_mw"].sum())
    assert losses == pytest.approx(net.meta["base_losses_mw"], rel=1e-3)
    assert 0.005 < losses / net.meta["total_load_mw"] < 0.08
    # No feeder is overloaded, and every feeder sits in the target voltage band.
    assert pn.res_line["loading_percent"].max() <= 75.0
    assert list(pn.bus["name"]) == net.buses["id"].to_list()  # same bus order
    labels = _feeder_labels(net)
    pu = to_per_unit(net)
    for lab in np.unique(labels[~pu.is_source]):
        assert 0.925 <= vm[labels == lab].min() <= 0.965


def test_twenty_kv() -> None:
    net = synthetic_feeder(250, seed=0, vn_kv=20.0)
    assert (net.buses["vn_kv"] == 20.0).all()
    pn = _pandapower_base_case(net)
    assert 0.92 <= pn.res_bus["vm_pu"].min() <= 0.97
    assert pn.res_line["loading_percent"].max() <= 75.0


def test_generation_speed() -> None:
    synthetic_feeder(100, seed=0)  # warm-up (imports)
    t0 = time.perf_counter()
    net = synthetic_feeder(2000, seed=0)
    elapsed = time.perf_counter() - t0
    assert net.n_buses == 2000
    assert elapsed < 2.0
    ok, why = _radial(net)
    assert ok, why
    assert net.check() is net


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_buses": 1},
        {"n_buses": 3, "n_substations": 2},
        {"n_buses": 10, "n_substations": 0},
        {"n_buses": 10, "tie_fraction": 0.5},
        {"n_buses": 10, "tie_fraction": -0.1},
        {"n_buses": 10, "vn_kv": 0.0},
        {"n_buses": 10, "v_min_target": (0.97, 0.95)},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        synthetic_feeder(**kwargs)
