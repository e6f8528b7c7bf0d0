"""An OLTC on a transformer that the answer switches off (a trafo behind an open CB switch,
optimised since commit 6ce9a59) has no meaningful tap: its big-M rows impose nothing when
open, so the DOPF's position of it is arbitrary. The device row (result.json's ``devices``,
devices.parquet) reported that arbitrary position (tap_pos 1 on main here, the data's -2);
it now gives the data's ``tap_pos`` with ``open`` true, and neither the settings of the AC
check nor ``feederopt check`` (``with_result_devices``) write a tap into it.

The grid: a 110 kV source, two 110/20 kV trafos behind CB switches, each feeding two 20 kV
buses (0.5 MW, 0.2 MVAr each), the feeders' ends joined by a tie behind an open switch.
trafo 1 is very resistive (vkr 9 %), so the optimum opens its switch and feeds all four loads
through trafo 0 and the tie. Truth: pandapower's runpp over every radial topology (one of
the three switches open) and every tap position of the closed trafos (brute force), and
runpp at the returned setting."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import polars as pl
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower
from feederopt.network.device_settings import DeviceSettings
from feederopt.validation.montecarlo import with_result_devices

warnings.filterwarnings("ignore", message=".*numba.*")

DATA_TAP_1 = -2  # the data's tap_pos of trafo 1, the one the optimum opens


def _grid() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    ends = []
    for k in range(2):
        mv = pp.create_bus(net, 20.0)
        tr = pp.create_transformer_from_parameters(
            net, hv, mv, sn_mva=10.0, vn_hv_kv=110.0, vn_lv_kv=20.0, vk_percent=10.0,
            vkr_percent=0.5 if k == 0 else 9.0, pfe_kw=5.0, i0_percent=0.1, tap_side="hv",
            tap_min=-3, tap_max=3, tap_step_percent=1.5, tap_pos=0 if k == 0 else DATA_TAP_1,
            tap_neutral=0, tap_changer_type="Ratio")
        pp.create_switch(net, hv, tr, "t", closed=True)
        prev = mv
        for _ in range(2):
            b = pp.create_bus(net, 20.0)
            pp.create_line_from_parameters(net, prev, b, 1.0, 0.25, 0.35, 10.0, 0.4)
            pp.create_load(net, b, p_mw=0.5, q_mvar=0.2)
            prev = b
        ends.append(prev)
    tie = pp.create_line_from_parameters(net, ends[0], ends[1], 1.0, 0.25, 0.35, 10.0, 0.4)
    pp.create_switch(net, ends[0], tie, "l", closed=False)
    net.trafo["oltc"] = True
    net.bus["min_vm_pu"], net.bus["max_vm_pu"] = 0.95, 1.05
    return net


def _losses_kw(net: pp.pandapowerNet) -> float:
    return 1000.0 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())


def _brute_force() -> tuple[float, int]:
    """The least runpp losses within 0.95..1.05 p.u. and the switch it opens."""
    net = _grid()
    best, best_open = np.inf, -1
    for opened in net.switch.index:  # switch 0, 1: trafo 0, 1; switch 2: the tie
        net.switch["closed"] = net.switch.index != opened
        # an open trafo's tap has no effect (checked below): its data's position only
        for p0, p1 in itertools.product(range(-3, 4) if opened != 0 else [0],
                                        range(-3, 4) if opened != 1 else [DATA_TAP_1]):
            net.trafo.loc[[0, 1], "tap_pos"] = [p0, p1]
            pp.runpp(net)
            vm = net.res_bus.vm_pu.to_numpy()
            if np.all(vm >= 0.95 - 1e-9) and np.all(vm <= 1.05 + 1e-9) and (
                    _losses_kw(net) < best):
                best, best_open = _losses_kw(net), int(opened)
    return best, best_open


def _oltc_rows(result: feederopt.Result) -> dict[str, dict[str, object]]:
    return {str(x["branch"]): x for x in result.to_dict()["devices"] if x["kind"] == "oltc"}


def test_an_open_trafos_row_has_the_datas_tap_and_runpp_reproduces_the_check(
        tmp_path: Path) -> None:
    best, opened = _brute_force()
    assert opened == 1  # the optimum opens trafo 1's switch

    net = _grid()
    network = from_pandapower(net)
    result = feederopt.solve(network, time_limit=30)
    d = result.to_dict()
    assert d["status"] == "optimal"
    closed = dict(zip(result.branches["id"], result.branches["closed"], strict=True))
    assert closed["trafo:1"] is False and closed["trafo:0"] is True
    assert d["losses_kw"] == pytest.approx(best, rel=1e-4)

    rows = _oltc_rows(result)
    shut, live = rows["trafo:1"], rows["trafo:0"]
    # the open trafo: the data's tap, marked open (main: an arbitrary tap_pos 1, no flag)
    assert shut["tap_pos"] == DATA_TAP_1 and shut["data_tap_pos"] == DATA_TAP_1
    assert shut["open"] is True and shut["position"] == 0
    assert shut["ratio_pu"] == pytest.approx(1.0 + DATA_TAP_1 * 0.015, abs=1e-12)
    assert live["open"] is False
    # devices.parquet says the same
    folder = feederopt.save(result, tmp_path / "out")
    table = pl.read_parquet(folder / "devices.parquet").filter(pl.col("branch") == "trafo:1")
    assert table["tap_pos"].to_list() == [DATA_TAP_1] and table["open"].to_list() == [True]

    # neither the solve's settings nor `check`'s reading of the result move the open tap
    assert result.dopf is not None and "trafo:1" not in result.dopf.settings.branch_tap
    assert "trafo:1" not in DeviceSettings.from_devices(d["devices"]).branch_tap
    at = with_result_devices(network, d)
    ratio = at.branches.filter(pl.col("id") == "trafo:1")["tap_ratio"].to_list()
    assert ratio == pytest.approx([1.0 + DATA_TAP_1 * 0.015], abs=1e-12)

    # pandapower at the reported setting (switches, every reported tap_pos) gives the AC
    # check's losses; the open trafo's tap has no effect (any position: the same losses)
    net.switch["closed"] = [closed["trafo:0"], closed["trafo:1"], closed["line:4"]]
    net.trafo.loc[0, "tap_pos"] = int(live["tap_pos"])  # type: ignore[call-overload]
    net.trafo.loc[1, "tap_pos"] = int(shut["tap_pos"])  # type: ignore[call-overload]
    pp.runpp(net)
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(_losses_kw(net), rel=1e-6)
    assert d["losses_kw"] == pytest.approx(_losses_kw(net), rel=1e-6)
    at_data = _losses_kw(net)
    net.trafo.loc[1, "tap_pos"] = 3
    pp.runpp(net)
    assert _losses_kw(net) == pytest.approx(at_data, rel=1e-9)
