"""A distribution OPF's device settings in ``feederopt check`` and in the ``--out`` folder
(user test ut40_dopfreal, defects chkdev):

1. ``check`` of a DOPF result ran its samples at the data's settings (tap_pos 0, bank step 0),
   not the result's (tap_pos -4, step 3): 20 of 20 samples broke v_min (V 0.9247 p.u. at the
   x0.99 corner) where the result holds 1.000-1.045 p.u. The check now holds the devices at
   the result's settings in both the convex model and the AC power flow.
2. ``--out`` wrote no table of the device settings; ``devices.parquet`` now has them, and
   ``load_result(folder)`` reads it back.

Independent truth: pandapower's own ``runpp`` of the user's net with ``tap_pos`` -4, shunt
step 3 and lines 6 and 8 open (the result's decision), written by hand here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.validation.montecarlo import check_result


def _grid() -> pp.pandapowerNet:
    """ut40_dopfreal's grid_nosgen: a 110/20 kV trafo with an hv OLTC (tap -4..4, 1.5 %), two
    feeders with two ties (lines 7 and 8 open in the data), a 4-step 0.6 MVAr
    bank at bus 4 (B3), limits 0.95-1.05 p.u."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, 110, name="HV")
    b0 = pp.create_bus(net, 20, name="B0")
    bs = [pp.create_bus(net, 20, name=f"B{i}") for i in range(1, 8)]
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, hv, b0, sn_mva=25, vn_hv_kv=110, vn_lv_kv=20, vk_percent=12, vkr_percent=0.5,
        pfe_kw=0, i0_percent=0, tap_side="hv", tap_neutral=0, tap_min=-4, tap_max=4,
        tap_step_percent=1.5, tap_pos=0, tap_changer_type="Ratio", name="T1")
    net.trafo["oltc"] = True
    par = dict(r_ohm_per_km=0.3, x_ohm_per_km=0.35, c_nf_per_km=0, max_i_ka=0.4)
    ends = [(b0, bs[0], 3, "L01"), (bs[0], bs[1], 3, "L12"), (bs[1], bs[2], 3, "L23"),
            (b0, bs[3], 2, "L04"), (bs[3], bs[4], 3, "L45"), (bs[4], bs[5], 3, "L56"),
            (bs[2], bs[6], 2, "L37"), (bs[6], bs[5], 2, "L76"), (bs[1], bs[4], 2, "L25")]
    lines = [pp.create_line_from_parameters(net, a, b, km, name=n, **par)
             for a, b, km, n in ends]
    for li in lines[2:]:
        pp.create_switch(net, net.line.from_bus[li], li, et="l",
                         closed=net.line.name[li] not in ("L76", "L25"))
    loads = {bs[0]: (1.5, 0.6), bs[1]: (2.0, 0.9), bs[2]: (1.8, 0.8), bs[3]: (1.0, 0.4),
             bs[4]: (2.2, 1.0), bs[5]: (1.6, 0.7), bs[6]: (1.2, 0.5)}
    for b, (p, q) in loads.items():
        pp.create_load(net, b, p_mw=p, q_mvar=q)
    pp.create_shunt(net, bs[2], q_mvar=-0.6, p_mw=0.0, step=0, max_step=4, name="C3")
    net.shunt["controllable"] = True
    net.bus["min_vm_pu"] = 0.95
    net.bus["max_vm_pu"] = 1.05
    return net


def _decision(net: pp.pandapowerNet, load_factor: float = 1.0) -> pp.pandapowerNet:
    """The user's net at the result's decision, by hand: tap_pos -4, bank step 3, lines 6
    (L37) and 8 (L25) open, every other switch closed; loads times ``load_factor``."""
    out = copy.deepcopy(net)
    out.trafo.loc[0, "tap_pos"] = -4
    out.shunt.loc[0, "step"] = 3
    for idx, sw in out.switch.iterrows():
        out.switch.loc[idx, "closed"] = int(sw["element"]) not in (6, 8)
    out.load["p_mw"] *= load_factor
    out.load["q_mvar"] *= load_factor
    pp.runpp(out)
    return out


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("chkdev")
    path = folder / "grid_nosgen.json"
    pp.to_json(_grid(), str(path))
    result = feederopt.solve(str(path))
    out = folder / "out"
    feederopt.save(result, out)
    return {"path": path, "result": result, "doc": result.to_dict(), "out": out}


def test_the_solve_is_the_users_decision(solved: dict[str, Any]) -> None:
    """What the rest compares with: the solve's answer is tap_pos -4, step 3, lines 6, 8."""
    doc = solved["doc"]
    assert doc["within_limits"] is True
    assert sorted(b["id"] for b in doc["open_branches"]) == ["line:6", "line:8"]
    devices = {d["id"]: d for d in doc["devices"]}
    assert devices["shunt:0"]["step"] == 3
    assert devices["oltc:trafo:0"]["tap_pos"] == -4


def test_check_holds_the_results_device_settings(solved: dict[str, Any]) -> None:
    """At +-1 % every sample and both corners hold the limits, as pandapower's runpp at the
    decision does (it broke v_min in 20 of 20 at the data's tap 0, step 0), and a corner's
    voltages are pandapower's at the decision."""
    mc = check_result(solved["doc"], samples=20, uncertainty=0.01)
    assert mc.samples == 20
    assert mc.feasible_convex == 20
    assert mc.feasible_ac == 20
    assert mc.samples_breaking_limits == 0
    for corner in mc.corners:
        ref = _decision(_grid(), corner["factor"])
        vm = ref.res_bus.vm_pu.to_numpy()
        assert vm.min() >= 0.95 and vm.max() <= 1.05  # the truth: within the limits
        assert corner["feasible_ac"] is True and corner["feasible_convex"] is True
        assert corner["min_voltage_pu"] == pytest.approx(vm.min(), abs=1e-6)
        assert corner["max_voltage_pu"] == pytest.approx(vm.max(), abs=1e-6)
        assert corner["max_loading_percent"] == pytest.approx(
            float(ref.res_trafo.loading_percent.max()), rel=1e-4)


def test_a_samples_voltages_are_pandapowers_at_the_decision(solved: dict[str, Any]) -> None:
    """One sample's AC power flow, as the check runs it (loads drawn as the check's sampling
    says: uniform 1 + 0.01 u, numpy's default_rng(seed)), against pandapower's runpp of the
    user's net at the decision with the same loads."""
    from feederopt.network.perunit import to_per_unit
    from feederopt.validation.montecarlo import (
        ac_sample,
        closed_from_open,
        result_network,
        with_result_devices,
    )

    doc = solved["doc"]
    network, _ = result_network(doc)
    network = with_result_devices(network, doc)
    pu = to_per_unit(network)
    closed = closed_from_open(pu, ["line:6", "line:8"])
    u = np.random.default_rng(7).uniform(-1.0, 1.0, size=len(pu.load_ids))
    f = 1.0 + 0.01 * u
    p_mw = pu.load_p * f * pu.s_base_mva
    q_mvar = pu.load_q * f * pu.s_base_mva
    ok, converged, flow = ac_sample(network, closed, p_mw, q_mvar)
    assert ok and converged
    ref = _grid()
    rows = [int(lid.split(":")[1]) for lid in pu.load_ids]  # "load:<k>": the net's row k
    ref.load.loc[rows, "p_mw"] = p_mw
    ref.load.loc[rows, "q_mvar"] = q_mvar
    ref = _decision(ref)
    ids = [str(b) for b in ref.res_bus.index]
    got = dict(zip(pu.bus_ids, flow.vm_pu, strict=True))
    np.testing.assert_allclose([got[b] for b in ids], ref.res_bus.vm_pu.to_numpy(),
                               atol=1e-6)


def test_check_on_the_command_line_exits_0(solved: dict[str, Any]) -> None:
    """`feederopt check OUT --uncertainty 0.01 --samples 20`: within the limits, exit 0 (it
    was exit 4, 20 of 20 samples breaking v_min)."""
    from typer.testing import CliRunner

    from feederopt.cli import app

    res = CliRunner().invoke(app, ["check", str(Path(solved["out"])), "--uncertainty",
                                   "0.01", "--samples", "20"])
    assert res.exit_code == 0, res.output


def test_devices_parquet_holds_the_settings_pandapower_reproduces(
        solved: dict[str, Any]) -> None:
    """``devices.parquet`` of the folder: the rows of result.json's ``devices``; its tap_pos
    and step, written into the user's net, give pandapower's runpp the AC check's losses; and
    load_result(folder) reads it back."""
    import polars as pl

    table = pl.read_parquet(solved["out"] / "devices.parquet")
    doc = solved["doc"]
    assert table["id"].to_list() == [d["id"] for d in doc["devices"]]
    bank = table.filter(pl.col("kind") == "capacitor").row(0, named=True)
    oltc = table.filter(pl.col("kind") == "oltc").row(0, named=True)
    assert (bank["id"], bank["step"], bank["max_steps"]) == ("shunt:0", 3, 4)
    assert (oltc["branch"], oltc["tap_pos"], oltc["data_tap_pos"]) == ("trafo:0", -4, 0)
    # pandapower's "Ratio" changer on the hv side: ratio 1 + tap_pos * 1.5 % -> 0.94
    assert oltc["ratio_pu"] == pytest.approx(1 + (-4) * 0.015)
    # the bank: 4 steps of 0.6 MVAr (q_mvar -0.6 per step in pandapower: injecting)
    assert bank["q_mvar_at_1pu"] == pytest.approx(3 * 0.6)
    ref = _grid()
    ref.trafo.loc[0, "tap_pos"] = oltc["tap_pos"]
    ref.shunt.loc[0, "step"] = bank["step"]
    for idx, sw in ref.switch.iterrows():
        ref.switch.loc[idx, "closed"] = int(sw["element"]) not in (6, 8)
    pp.runpp(ref)
    losses = (ref.res_line.pl_mw.sum() + ref.res_trafo.pl_mw.sum()) * 1e3
    assert doc["ac_check"]["losses_kw"] == pytest.approx(losses, rel=1e-6)
    bus_q = float(ref.res_shunt.q_mvar.iloc[0])  # the bank's injection at runpp's voltage
    assert bank["q_mvar"] == pytest.approx(-bus_q, rel=0.02)  # the model's point vs AC
    loaded = feederopt.load_result(solved["out"])
    assert loaded.device_table is not None
    assert loaded.device_table.equals(table)
