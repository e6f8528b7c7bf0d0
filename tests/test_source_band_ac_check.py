"""The AC check leaves a source's bus held at its set-point out of the voltage band, as the
model does (user test ut34_fuzz #1).

A 10 kV feeder of four buses, every one banded 0.9..1.0076 p.u., with a second ext_grid at
1.01 p.u. at bus 3 (behind an open switch): the model fixes a source's bus at its set-point,
which no band binds (session 33, ``held_by_source``), but the AC check held bus 3 to the band:
"optimal", ``within_limits`` false, "bus 3 v_max 1.0100 against 1.0076", exit 4. Likewise one
ext_grid at 1.01 p.u. (``--v-max 1.0076``), the scenarios' AC checks, the schedule's hourly one,
the DOPF's and ``info``'s base-case verdict, which share
:func:`feederopt.validation.ac_limits.ac_limit_violations`.

The truth is pandapower's own ``runpp`` of the user's net at the result's topology: the source
buses sit at their ext_grids' ``vm_pu`` (above the band) and every other bus keeps the band
within the AC check's tolerance. A source with an OLTC (the secondary side, whose voltage the
solve chooses within the band) and any other bus are still held to their band: the AC voltage
against the band by hand.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.network import Network
from feederopt.network.perunit import to_per_unit
from feederopt.validation.ac import ac_power_flow
from feederopt.validation.ac_limits import AC_LIMIT_TOLERANCE, ac_limit_violations
from netbuild import tiny_tables
from oltc_feeder import oltc_feeder, runpp_quiet

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()
ENV = {"COLUMNS": "240"}
TOL_V = AC_LIMIT_TOLERANCE["voltage_pu"]
BAND = (0.9, 1.0076)


def feeder(*, two: bool, v_max: float = BAND[1]) -> Any:
    """The user's feeder: buses 0-1-2-3 on 1 km lines (0.3 + j0.3 Ohm/km), the line 1-2
    behind a closed switch, 2-3 behind an open one, 0.3 + j0.1 MVA at buses 1 and 2; the
    ext_grid at bus 0 holds 1.0 p.u. and a second one at bus 3 1.01 p.u. (``two``), or the
    one at bus 0 holds 1.01 p.u."""
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 10.0, min_vm_pu=BAND[0], max_vm_pu=v_max) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0 if two else 1.01)
    if two:
        pp.create_ext_grid(net, b[3], vm_pu=1.01)
    for i, j in [(0, 1), (1, 2), (2, 3)]:
        pp.create_line_from_parameters(net, b[i], b[j], 1.0, 0.3, 0.3, 0.0, 0.4)
    pp.create_switch(net, b[2], 1, et="l", closed=True)
    pp.create_switch(net, b[3], 2, et="l", closed=False)
    pp.create_load(net, b[1], p_mw=0.3, q_mvar=0.1)
    pp.create_load(net, b[2], p_mw=0.3, q_mvar=0.1)
    return net


def truth(net: Any, open_lines: set[int], scale: float = 1.0) -> Any:
    """pandapower's power flow of ``net`` with exactly ``open_lines`` out of service and
    every load scaled by ``scale``."""
    net = copy.deepcopy(net)
    net.switch["closed"] = True
    net.line["in_service"] = [i not in open_lines for i in net.line.index]
    net.load["p_mw"] *= scale
    net.load["q_mvar"] *= scale
    return runpp_quiet(net)


def _open_lines(doc: dict[str, Any]) -> set[int]:
    return {int(b["id"].split(":")[1]) for b in doc["open_branches"]}


def _check_truth(ref: Any) -> None:
    """The premise and the verdict: a source bus above the band, at its set-point; every
    other energised bus within it."""
    vm = ref.res_bus.vm_pu
    sources = set(ref.ext_grid.bus)
    for bus in sources:
        assert vm[bus] == pytest.approx(ref.ext_grid.vm_pu[ref.ext_grid.bus == bus].iloc[0])
    assert any(vm[bus] > ref.bus.max_vm_pu[bus] + TOL_V for bus in sources)  # off its band
    for bus in set(ref.bus.index) - sources:
        if np.isfinite(vm[bus]):
            assert ref.bus.min_vm_pu[bus] - TOL_V <= vm[bus] <= ref.bus.max_vm_pu[bus] + TOL_V


def _solve(tmp_path: Path, net: Any, *extra: str) -> tuple[Any, dict[str, Any]]:
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "60", "--json",
                              str(tmp_path / "r.json"), *extra], env=ENV)
    assert "Traceback" not in res.output
    return res, json.loads((tmp_path / "r.json").read_text())


def test_a_second_source_above_the_band_is_its_set_point(tmp_path: Path) -> None:
    net = feeder(two=True)
    res, doc = _solve(tmp_path, net)
    assert res.exit_code == 0, res.output
    assert doc["status"] == "optimal"
    assert doc["within_limits"] is True
    assert doc["ac_check"]["within_limits"] is True
    assert doc["ac_check"]["limit_violations"] == []
    ref = truth(net, _open_lines(doc))
    _check_truth(ref)
    assert doc["ac_check"]["losses_kw"] == pytest.approx(1000 * ref.res_line.pl_mw.sum(),
                                                         rel=1e-6)
    # the base case's verdict of info holds the same band
    path = tmp_path / "net.json"
    info = json.loads(runner.invoke(app, ["info", str(path), "--json"], env=ENV).stdout)
    assert info["base_voltage_limits"]["within"] is True
    assert info["base_voltage_limits"]["above_v_max"] == []


def test_a_source_above_v_max_option_is_its_set_point(tmp_path: Path) -> None:
    net = feeder(two=False)
    res, doc = _solve(tmp_path, net, "--v-max", str(BAND[1]))
    assert res.exit_code == 0, res.output
    assert doc["within_limits"] is True and doc["ac_check"]["limit_violations"] == []
    ref = truth(net, _open_lines(doc))
    _check_truth(ref)
    # the buses table gives the source's set-point as the band held there
    r = feederopt.solve(feederopt.load(net), v_max=BAND[1], time_limit=60)
    band = dict(zip(r.buses["id"], r.buses["v_max_pu"], strict=True))
    assert band == {"0": 1.01, "1": BAND[1], "2": BAND[1], "3": BAND[1]}
    assert r.within_limits and r.ac_check is not None and r.ac_check.within_limits


def test_each_scenario_ac_check_leaves_the_source_bus_out(tmp_path: Path) -> None:
    net = feeder(two=True)
    scales = {"low": 0.8, "high": 1.2}
    rows = ["scenario,kind,element,p_mw,q_mvar,weight"] + [
        f"{s},load,load:{k},{0.3 * x},{0.1 * x},1" for s, x in scales.items() for k in (0, 1)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    res, doc = _solve(tmp_path, net, "--scenarios", str(tmp_path / "s.csv"), "--workers", "1")
    assert res.exit_code == 0, res.output
    for s in doc["scenarios"]:
        ref = truth(net, _open_lines(doc), scales[s["scenario"]])
        _check_truth(ref)
        assert s["ac"]["within_limits"] is True and s["ac"]["violations"] == [], s


def test_the_schedule_ac_check_leaves_the_substation_out(tmp_path: Path) -> None:
    net = feeder(two=False, v_max=1.009)
    pp.to_json(net, str(tmp_path / "net.json"))
    (tmp_path / "p.csv").write_text("time,element,value\n0,load:0,1.0\n0,load:1,1.0\n")
    (tmp_path / "devices").mkdir()
    res = runner.invoke(app, [
        "schedule", str(tmp_path / "net.json"), "--profiles", str(tmp_path / "p.csv"),
        "--devices", str(tmp_path / "devices"), "--hours", "1", "--time-limit", "60",
        "--json", str(tmp_path / "r.json")], env=ENV)
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["ac_check"][0]["limit_violations"] == []
    _check_truth(truth(net, {int(str(x).split(":")[-1]) for x in doc["open_lines_by_hour"][0]}))


def test_the_dopf_ac_check_leaves_the_source_bus_out(tmp_path: Path) -> None:
    # the OLTC feeder of test_source_setpoint_band: its ext_grid at 1.02 p.u., its own bus
    # banded 0.95..1.0; the tap changer sits on the transformer, not on the source
    net = oltc_feeder(sn_mva=20, length_km=2.0, p_mw=4.0, q_mvar=1.2)
    net.ext_grid.at[0, "vm_pu"] = 1.02
    net.bus.loc[0, ["min_vm_pu", "max_vm_pu"]] = (0.95, 1.0)
    res, doc = _solve(tmp_path, net)
    assert res.exit_code == 0, res.output
    assert doc["ac_check"]["limit_violations"] == [] and doc["within_limits"] is True
    oltc = next(d for d in doc["devices"] if d["kind"] == "oltc")
    ref = copy.deepcopy(net)
    ref.trafo.at[0, "tap_pos"] = oltc["tap_pos"]
    runpp_quiet(ref)
    vm = ref.res_bus.vm_pu
    assert vm[0] == pytest.approx(1.02) and vm[0] > 1.0 + TOL_V  # the source, off its band
    assert all(0.95 - TOL_V <= vm[b] <= 1.07 + TOL_V for b in (1, 2))


def _network(v_set: float, oltc: bool, a_v_max: float = 1.1) -> Network:
    """netbuild's tiny feeder, its source s at ``v_set`` p.u. and banded 0.9..1.04, bus a
    banded up to ``a_v_max``, an OLTC at s (0.96..1.04 in steps of 0.01) if ``oltc``."""
    t = tiny_tables()
    buses = t["buses"].with_columns(
        pl.Series("v_set_pu", [v_set, None, None, None, None], pl.Float64),
        pl.Series("v_min_pu", [0.9] * 5, pl.Float64),
        pl.Series("v_max_pu", [1.04, a_v_max, 1.1, 1.1, 1.1], pl.Float64))
    if oltc:
        buses = buses.with_columns(*(pl.Series(c, [v, None, None, None, None], pl.Float64)
                                     for c, v in (("tap_min_pu", 0.96), ("tap_max_pu", 1.04),
                                                  ("tap_step_pu", 0.01))))
    return Network.from_tables(**{**t, "buses": buses}, name="tiny")


def test_an_oltc_source_and_other_buses_keep_their_band() -> None:
    for oltc in (False, True):
        net = _network(1.05, oltc, a_v_max=1.0)
        ac = ac_power_flow(net)
        assert ac.converged
        vm = dict(zip(ac.bus_ids, ac.vm_pu, strict=True))
        assert vm["s"] == pytest.approx(1.05)  # the source at its set-point, above 1.04
        assert vm["a"] > 1.0 + TOL_V  # bus a above its 1.0 (by hand: the premise)
        broken = {(d["id"], d["limit"]): d
                  for d in ac_limit_violations(to_per_unit(net), ac, net.bus_id_out)}
        assert broken[("a", "v_max")]["value"] == pytest.approx(vm["a"])
        assert broken[("a", "v_max")]["rating"] == 1.0
        # the OLTC's secondary is a bus like any other; a plain source holds its set-point
        assert (("s", "v_max") in broken) is oltc
        assert set(broken) == {("a", "v_max")} | ({("s", "v_max")} if oltc else set())
