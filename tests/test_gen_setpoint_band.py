"""A bus that a voltage-controlling generator holds at its set-point is exempt from the voltage
band, as a source's bus is (session 33, ``held_by_source``; ut34_fuzz #1 for the AC check).

A pandapower ``gen`` with its q limits not enforced (pandapower's default
``runpp(enforce_q_lims=False)``), or a MATPOWER PV bus, holds its bus at ``vm_pu`` whatever its
reactive power, and the model fixes the bus there; but ``--v-min``/``--v-max`` set its band,
``info`` showed that band, and the AC check, the base-case verdict, ``check``'s samples and
the model's slack rows held the set-point to it: a gen at 1.02 p.u. on buses banded to 1.01
gave "optimal" and exit 4 for the gen's own bus, ``check`` counted every sample of that answer
infeasible, ``--v-min 1.005`` was refused because the gen's bus has ``max_vm_pu`` 1.005, and a
grid that the band makes infeasible listed the gen's bus among the violations. A gen whose q
limits are enforced leaves its set-point at a limit: its bus keeps its band.

Truth: pandapower's own ``runpp`` of the user's net at the result's topology (the gen's bus at
its ``vm_pu``, above the band; every other energised bus against its band by hand), with
``enforce_q_lims`` as the net's ``user_pf_options`` say; for the MATPOWER case the file's
``Vg`` and ``Vmax`` by hand.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.network.limits import held_by_generator, operating_limits
from feederopt.validation.ac_limits import AC_LIMIT_TOLERANCE
from g1011_feeder import g1011

warnings.filterwarnings("ignore", message=".*numba.*")
runner = CliRunner()
ENV = {"COLUMNS": "240"}
TOL_V = AC_LIMIT_TOLERANCE["voltage_pu"]
GEN_BUS = 2
PV_CASE = Path(__file__).parent / "data" / "io" / "pv_redispatch.m"


def feeder(*, v_max: float = 1.01, gen_bus_v_max: float | None = None,
           enforce: bool = False, q_limit: float = 0.5) -> Any:
    """Buses 0-1-2-3 (10 kV, banded 0.9..``v_max``, bus 2 to ``gen_bus_v_max`` if given) on
    1 km lines (0.3 + j0.3 Ohm/km): 0-1, 1-2 behind a closed switch, 2-3, and 0-3 behind an
    open one; 0.3 + j0.1 MVA at buses 1 and 3; the ext_grid at bus 0 holds 1.0 p.u.; a gen at
    bus 2 injects 0.2 MW and holds 1.02 p.u. within +-``q_limit`` MVAr, enforced if
    ``enforce`` (the net's user_pf_options)."""
    net = pp.create_empty_network(sn_mva=1.0)
    b = [pp.create_bus(net, 10.0, min_vm_pu=0.9, max_vm_pu=v_max) for _ in range(4)]
    if gen_bus_v_max is not None:
        net.bus.at[GEN_BUS, "max_vm_pu"] = gen_bus_v_max
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for i, j in [(0, 1), (1, 2), (2, 3), (0, 3)]:
        pp.create_line_from_parameters(net, b[i], b[j], 1.0, 0.3, 0.3, 0.0, 0.4)
    pp.create_switch(net, b[2], 1, et="l", closed=True)
    pp.create_switch(net, b[3], 3, et="l", closed=False)
    pp.create_load(net, b[1], p_mw=0.3, q_mvar=0.1)
    pp.create_load(net, b[3], p_mw=0.3, q_mvar=0.1)
    pp.create_gen(net, b[GEN_BUS], p_mw=0.2, vm_pu=1.02, min_q_mvar=-q_limit,
                  max_q_mvar=q_limit)
    if enforce:
        pp.set_user_pf_options(net, enforce_q_lims=True)
    return net


def truth(net: Any, open_lines: set[int] | None = None) -> Any:
    """pandapower's power flow of ``net`` with exactly ``open_lines`` out of service (every
    switch closed), or as it is (None); q limits enforced as the net says."""
    net = copy.deepcopy(net)
    if open_lines is not None:
        net.switch["closed"] = True
        net.line["in_service"] = [i not in open_lines for i in net.line.index]
    enforce = bool((net.get("user_pf_options") or {}).get("enforce_q_lims", False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False, enforce_q_lims=enforce)
    return net


def outside(ref: Any, exempt: set[int]) -> set[str]:
    """The energised buses of the power flow ``ref`` outside their band beyond the AC check's
    tolerance, but those in ``exempt`` (by hand)."""
    vm = ref.res_bus.vm_pu
    return {str(b) for b in ref.bus.index if b not in exempt and np.isfinite(vm[b])
            and not ref.bus.min_vm_pu[b] - TOL_V <= vm[b] <= ref.bus.max_vm_pu[b] + TOL_V}


def _open_lines(doc: dict[str, Any]) -> set[int]:
    return {int(b["id"].split(":")[1]) for b in doc["open_branches"]}


def _solve(tmp_path: Path, net: Any, *extra: str) -> tuple[Any, dict[str, Any]]:
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "60", "--json",
                              str(tmp_path / "r.json"), *extra], env=ENV)
    assert "Traceback" not in res.output, res.output
    return res, json.loads((tmp_path / "r.json").read_text())


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, Any]]:
    """One ``feederopt solve --json`` of :func:`feeder` as it is, for the two tests that judge
    that run (its verdict, and ``check`` of its result.json): the folder holding net.json and
    r.json, the command's outcome and the JSON document."""
    where = tmp_path_factory.mktemp("plain")
    res, doc = _solve(where, feeder())
    return where, res, doc


def test_a_gen_above_the_band_is_its_set_point(plain: tuple[Path, Any, dict[str, Any]]
                                               ) -> None:
    net = feeder()
    _, res, doc = plain
    assert res.exit_code == 0, res.output
    assert doc["status"] == "optimal" and doc["within_limits"] is True
    assert doc["ac_check"]["within_limits"] is True
    assert doc["ac_check"]["limit_violations"] == []
    ref = truth(net, _open_lines(doc))
    vm = ref.res_bus.vm_pu
    assert vm[GEN_BUS] == pytest.approx(1.02)  # the gen holds it, above its 1.01
    assert vm[GEN_BUS] > ref.bus.max_vm_pu[GEN_BUS] + TOL_V
    assert outside(ref, {0, GEN_BUS}) == set()  # every other bus keeps the band
    assert doc["ac_check"]["losses_kw"] == pytest.approx(1000 * ref.res_line.pl_mw.sum(),
                                                         rel=1e-6)
    # the buses table gives the gen's set-point as the band held at its bus (the model's
    # band: no AC check needed)
    r = feederopt.solve(feederopt.load(net), time_limit=60, ac_check=False)
    band = dict(zip(r.buses["id"], zip(r.buses["v_min_pu"], r.buses["v_max_pu"],
                                       strict=True), strict=True))
    assert band == {"0": (1.0, 1.0), "1": (0.9, 1.01), "2": (1.02, 1.02), "3": (0.9, 1.01)}


def test_check_counts_a_sample_by_the_other_buses(plain: tuple[Path, Any, dict[str, Any]],
                                                  tmp_path: Path) -> None:
    # feederopt check of the solve's topology under +-30 % on both loads: a sample is feasible
    # when the buses that a band binds keep it, whatever the gen's bus at 1.02 p.u. (every
    # sample was infeasible, in the convex model and in AC, for the gen's bus alone)
    net = feeder()
    solved, res, _ = plain
    assert res.exit_code == 0, res.output
    n, x, seed = 12, 0.3, 5
    out = tmp_path / "check.json"
    res = runner.invoke(app, ["check", str(solved / "r.json"), "-n", str(n), "-u", str(x),
                              "--seed", str(seed), "--uncertain-loads", "load:0,load:1",
                              "--json", str(out), "-q"], env=ENV)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    # truth: pandapower over the same draws, p, q = p0, q0 (1 + x u), u ~ U(-1, 1)
    ref = copy.deepcopy(net)
    p0, q0 = ref.load.p_mw.copy(), ref.load.q_mvar.copy()
    opened = _open_lines(json.loads((solved / "r.json").read_text()))
    ok = []
    for row in np.random.default_rng(seed).uniform(-1, 1, size=(n, 2)):
        ref.load["p_mw"], ref.load["q_mvar"] = p0 * (1 + x * row), q0 * (1 + x * row)
        flow = truth(ref, opened)
        assert flow.res_bus.vm_pu[GEN_BUS] == pytest.approx(1.02)  # above its band
        ok.append(not outside(flow, {0, GEN_BUS})
                  and bool((flow.res_line.loading_percent <= 100).all()))
    assert sum(ok) == n  # the premise: every sample keeps the other buses' band
    assert data["feasible_ac"] == sum(ok)
    assert data["feasible_convex"] == sum(ok)


def test_info_shows_the_gen_set_point_and_judges_the_other_buses(tmp_path: Path) -> None:
    net = feeder()
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["info", str(path)], env=ENV)
    assert res.exit_code == 0, res.output
    assert "1.02 (generator bus 2: its set-point)" in res.output
    info = json.loads(runner.invoke(app, ["info", str(path), "--json"], env=ENV).stdout)
    bands = info["limits"]["voltage"]["bands"]
    assert {"v_min_pu": 1.02, "v_max_pu": 1.02, "buses": 1, "generator": True,
            "bus_ids": ["2"]} in bands
    # the base case: bus 3 beyond the gen at 1.0188 p.u. breaks its 1.01 (runpp), the gen's
    # own bus at 1.02 is its set-point
    ref = truth(net)
    assert outside(ref, {0, GEN_BUS}) == {"3"}
    verdict = info["base_voltage_limits"]
    assert verdict["within"] is False
    assert [d["id"] for d in verdict["above_v_max"]] == ["3"]
    assert verdict["above_v_max"][0]["value"] == pytest.approx(ref.res_bus.vm_pu[3], abs=1e-6)
    assert verdict["v_max_pu"] == 1.01  # the band's extremes leave the gen's bus out


def test_the_options_leave_a_gen_bus_its_own_band(tmp_path: Path) -> None:
    # --v-max 1.015: the gen at 1.02 keeps it (no violation), the other buses take 1.015
    net = feeder()
    res, doc = _solve(tmp_path, net, "--v-max", "1.015")
    assert res.exit_code == 0, res.output
    assert doc["ac_check"]["limit_violations"] == [] and doc["within_limits"] is True
    ref = truth(net, _open_lines(doc))
    assert ref.res_bus.vm_pu[GEN_BUS] == pytest.approx(1.02)
    assert all(ref.res_bus.vm_pu[b] <= 1.015 + TOL_V for b in (1, 3))
    # --v-min 1.005 alone, the gen's bus banded up to 1.005: no refusal ("not below the
    # network's own v_max at bus 2"), and the topology holds buses 1 and 3 at 1.005 or more
    net = feeder(v_max=1.05, gen_bus_v_max=1.005)
    (tmp_path / "r.json").unlink()
    res, doc = _solve(tmp_path, net, "--v-min", "1.005")
    assert res.exit_code == 0, res.output
    assert doc["ac_check"]["limit_violations"] == [] and doc["within_limits"] is True
    ref = truth(net, _open_lines(doc))
    assert ref.res_bus.vm_pu[GEN_BUS] == pytest.approx(1.02)
    assert all(1.005 - TOL_V <= ref.res_bus.vm_pu[b] <= 1.05 + TOL_V for b in (1, 3))


def test_a_band_that_no_topology_keeps_names_the_other_buses(tmp_path: Path) -> None:
    # every bus banded to 1.005: bus 3 (next to the gen at 1.02) breaks it in every radial
    # topology (runpp: 1.0188 and 1.0090 p.u.), so the solve is infeasible; the model's
    # diagnosis named the gen's bus too, whose 1.02 no band binds
    net = feeder(v_max=1.005)
    for open_line in (1, 3):
        assert "3" in outside(truth(net, {open_line}), {0, GEN_BUS})
    res, doc = _solve(tmp_path, net)
    assert res.exit_code == 3, res.output
    named = {d["id"] for d in doc["diagnosis"]} | {
        d["id"] for d in doc["ac_check"]["limit_violations"]}
    assert named == outside(truth(net, _open_lines(doc)), {0, GEN_BUS}) == {"3"}


def test_a_genuine_violation_elsewhere_still_gives_exit_4(tmp_path: Path) -> None:
    # g1011 (its SOCP relaxation inexact: exit 4) with a gen at bus 4 holding 1.01 p.u.,
    # above the band 0.9978: the AC check lists the grid's own buses above the band, not the
    # ext_grid's nor the gen's
    net = g1011()
    pp.create_gen(net, 4, p_mw=0.0, vm_pu=1.01)
    res, doc = _solve(tmp_path, net)
    assert res.exit_code == 4, res.output
    ref = truth(net, _open_lines(doc))
    assert ref.res_bus.vm_pu[4] == pytest.approx(1.01)  # the premise: above its band
    above = outside(ref, {0, 4})
    assert above  # the grid's own buses break the band in AC
    assert {d["id"] for d in doc["ac_check"]["limit_violations"]} == above


def test_a_gen_with_enforced_q_limits_keeps_the_band(tmp_path: Path) -> None:
    # q limits +-5 MVAr enforced: runpp holds 1.02 p.u. (q -3.85 MVAr, within them), but the
    # gen may leave its set-point at a limit, so its bus keeps its band: 1.02 breaks 1.01
    net = feeder(enforce=True, q_limit=5.0)
    loaded = feederopt.load(net)
    assert held_by_generator(loaded.buses, loaded.generators) == [None] * 4
    bands = operating_limits(loaded)["voltage"]["bands"]
    assert not any(b.get("generator") for b in bands)
    res, doc = _solve(tmp_path, net)
    assert res.exit_code == 4, res.output
    ref = truth(net, _open_lines(doc))
    assert ref.res_bus.vm_pu[GEN_BUS] == pytest.approx(1.02)
    assert {d["id"] for d in doc["ac_check"]["limit_violations"]} == outside(ref, {0}) \
        == {str(GEN_BUS)}
    # --v-min 1.005 alone with the gen's bus banded to 1.005 is refused for it, as for any bus
    net = feeder(v_max=1.05, gen_bus_v_max=1.005, enforce=True)
    (tmp_path / "r.json").unlink()
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    res = runner.invoke(app, ["solve", str(path), "--v-min", "1.005"], env=ENV)
    assert res.exit_code == 2 and "not below the network's own v_max" in res.output


def test_a_matpower_pv_bus_is_its_set_point(tmp_path: Path) -> None:
    # pv_redispatch with its PV bus 412 (Vg 1.0) banded up to Vmax 0.99
    text = PV_CASE.read_text()
    row = "\t412\t2\t0.3\t0.1\t0\t0\t1\t1\t0\t12.66\t1\t1.1\t0.9;"
    assert row in text
    path = tmp_path / "pv_band.m"
    path.write_text(text.replace(row, row.replace("1\t1.1\t0.9;", "1\t0.99\t0.9;")))
    res = runner.invoke(app, ["info", str(path)], env=ENV)
    assert res.exit_code == 0 and "1 (generator bus 412: its set-point)" in res.output
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "60", "--json",
                              str(tmp_path / "r.json")], env=ENV)
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["ac_check"]["limit_violations"] == []
    r = feederopt.solve(feederopt.load(path), time_limit=60)
    buses = {b: (lo, hi, v) for b, lo, hi, v in zip(
        r.buses["id"], r.buses["v_min_pu"], r.buses["v_max_pu"], r.buses["vm_ac_pu"],
        strict=True)}
    assert buses["412"][:2] == (1.0, 1.0)  # its Vg, not the file's 0.9..0.99
    assert buses["412"][2] == pytest.approx(1.0)  # held there in AC, above 0.99
