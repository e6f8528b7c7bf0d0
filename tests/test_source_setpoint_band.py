"""A source's bus holds its set-point, and no voltage band binds it (user test ut33_dopf #3).

The tester's 110 kV ext_grid bus had no ``min_vm_pu``/``max_vm_pu`` of its own, which
pandapower 3 fills with 0 and 2: ``feederopt info`` showed its band as "0 - 2 (bus 0)" and
"within each bus's band, 0.0000..0.9500 - 1.0500..2.0000 p.u.", and ``solve --v-min 1.035``
was refused because the ext_grid holds 1.0 p.u. there, although the OLTC transformer behind it
raises the 20 kV buses. ``--v-min``/``--v-max`` now apply to the buses whose voltage the solve
moves; a source's bus shows its set-point.

Truth: the user's net (its ext_grid's ``vm_pu``, the buses' ``min_vm_pu``/``max_vm_pu``) and
pandapower's ``runpp`` at every tap position (the best position whose 20 kV voltages keep
1.035..1.07 p.u.).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from oltc_feeder import oltc_feeder, runpp_quiet

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()
ENV = {"COLUMNS": "240"}


def _net() -> pp.pandapowerNet:
    return oltc_feeder(sn_mva=20, length_km=2.0, p_mw=4.0, q_mvar=1.2)


def test_info_shows_the_source_set_point_as_its_band(tmp_path: Path) -> None:
    net = _net()
    assert (net.bus.min_vm_pu[0], net.bus.max_vm_pu[0]) == (0.0, 2.0)  # the premise
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["info", str(path), "--json"], env=ENV)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    bands = {tuple(b.get("bus_ids", ["*"])): b for b in data["limits"]["voltage"]["bands"]}
    vm = float(net.ext_grid.vm_pu[0])
    assert bands[("0",)]["v_min_pu"] == bands[("0",)]["v_max_pu"] == vm
    assert bands[("0",)]["source"] is True
    assert (bands[("*",)]["v_min_pu"], bands[("*",)]["v_max_pu"]) == (0.95, 1.07)
    verdict = data["base_voltage_limits"]
    assert (verdict["v_min_pu"], verdict["v_max_pu"]) == (0.95, 1.07)
    text = runner.invoke(app, ["info", str(path)], env=ENV).output
    band_row = next(line for line in text.splitlines() if "voltage band [p.u.]" in line)
    assert "0.95 - 1.07 (2 buses); 1 (source bus 0: its set-point)" in band_row
    assert "0 - 2" not in band_row
    vs_row = next(line for line in text.splitlines() if "base-case voltage vs limits" in line)
    base = runpp_quiet(_net()).res_bus.vm_pu.to_numpy()[1:]
    assert np.all((base >= 0.95) & (base <= 1.07))
    assert "within 0.9500 - 1.0700 p.u." in vs_row


def test_v_min_applies_to_the_buses_behind_the_oltc(tmp_path: Path) -> None:
    # runpp at every position: the best one whose 20 kV buses keep 1.035..1.07 p.u.
    net = _net()
    feasible = {}
    for pos in range(-5, 6):
        net.trafo.at[0, "tap_pos"] = pos
        runpp_quiet(net)
        vm = net.res_bus.vm_pu.to_numpy()[1:]
        if np.all(vm >= 1.035 - 1e-9) and np.all(vm <= 1.07 + 1e-9):
            feasible[pos] = 1000 * float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
    best = min(feasible, key=feasible.__getitem__)
    assert feasible and best != -5  # the lowest ratio breaks 1.07: the band binds
    path = tmp_path / "net.json"
    pp.to_json(_net(), str(path))
    res = runner.invoke(app, ["solve", str(path), "--v-min", "1.035", "--time-limit", "60",
                              "--json", str(tmp_path / "r.json")], env=ENV)
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r.json").read_text())
    oltc = next(d for d in data["devices"] if d["kind"] == "oltc")
    assert oltc["tap_pos"] == best
    assert data["ac_check"]["losses_kw"] == pytest.approx(feasible[best], rel=1e-6)
    # the API alike; the source keeps its own band, which no option changes (pandapower's
    # fill values 0..2 read as unset since ut36_real #3: the default 0.9..1.1), and the
    # result's band held there is the ext_grid's vm_pu; the others take --v-min
    net = feederopt.load(_net())
    assert net.with_limits(v_min_pu=1.035).buses["v_min_pu"].to_list() == [0.9, 1.035, 1.035]
    result = feederopt.solve(net, v_min=1.035, time_limit=60)
    band = dict(zip(result.buses["id"], result.buses["v_min_pu"], strict=True))
    assert band == {"0": float(_net().ext_grid.vm_pu[0]), "1": 1.035, "2": 1.035}
    check = runpp_quiet(result.to_pandapower(_net()))
    assert check.res_bus.vm_pu[0] == pytest.approx(1.0)
    assert np.all(check.res_bus.vm_pu.to_numpy()[1:] >= 1.035 - 1e-6)


def test_v_min_above_every_source_of_a_passive_grid_is_refused() -> None:
    # MATPOWER's case33bw: loads only (no generator but the slack at Vm 1, no shunt, no line
    # charging): no bus rises above 1 p.u., so --v-min 1.01 cannot be kept by any topology
    res = runner.invoke(app, ["solve", "case33bw", "--v-min", "1.01"], env=ENV)
    assert res.exit_code == 2
    out = " ".join(res.output.split())
    assert "--v-min 1.01 is above every source's voltage (at most 1 p.u.)" in out
    assert "Traceback" not in res.output
