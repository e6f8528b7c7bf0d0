"""The bus of the base case's highest voltage (user test ut50_simb #3).

``info simbench:1-LV-rural2--1-sw@lPV`` showed "1.0550 p.u. (bus 0) - 1.0779 p.u." with no bus
for the maximum, and the JSON had ``base_min_voltage_bus`` but no ``base_max_voltage_bus``;
solve's ``base`` block had none either. Here a small pandapower feeder whose PV unit lifts one
bus above the source; the truth is pandapower's ``runpp`` of the net (``res_bus.vm_pu``).
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app


def _net() -> pp.pandapowerNet:
    """A 20 kV feeder 0-1-2-3 with 1.5 MW of PV at bus 2 and a load at bus 3."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in itertools.pairwise(b):
        pp.create_line_from_parameters(net, f, t, length_km=5.0, r_ohm_per_km=0.3,
                                       x_ohm_per_km=0.1, c_nf_per_km=10.0, max_i_ka=0.4)
    pp.create_sgen(net, b[2], p_mw=1.5)
    pp.create_load(net, b[3], p_mw=0.3, q_mvar=0.05)
    return net


def _truth() -> tuple[str, float, str, float]:
    net = copy.deepcopy(_net())
    pp.runpp(net, numba=False)
    vm = net.res_bus.vm_pu
    return str(vm.idxmin()), float(vm.min()), str(vm.idxmax()), float(vm.max())


def test_info_names_the_bus_of_the_highest_voltage(tmp_path: Path) -> None:
    low_bus, low, high_bus, high = _truth()
    assert high_bus not in ("0", low_bus)  # the PV bus, not the source: the test can fail
    path = tmp_path / "feeder.json"
    pp.to_json(_net(), str(path))
    res = CliRunner().invoke(app, ["info", str(path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["base_max_voltage_bus"] == high_bus
    assert data["base_max_voltage_pu"] == pytest.approx(high, abs=1e-9)
    assert data["base_min_voltage_bus"] == low_bus
    res = CliRunner().invoke(app, ["info", str(path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert f"{low:.4f} p.u. (bus {low_bus}) - {high:.4f} p.u. (bus {high_bus})" in res.output


def test_solves_base_block_names_it_too() -> None:
    low_bus, _, high_bus, high = _truth()
    result = feederopt.solve(_net(), time_limit=20)
    assert result.base["max_voltage_bus"] == high_bus
    assert result.base["max_voltage_pu"] == pytest.approx(high, abs=1e-9)
    assert result.base["min_voltage_bus"] == low_bus
    again = feederopt.Result.from_dict(json.loads(json.dumps(result.to_dict(), default=str)))
    assert again.base["max_voltage_bus"] == high_bus
