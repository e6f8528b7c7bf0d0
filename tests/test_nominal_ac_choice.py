"""A nominal solve whose model optimum breaks v_max in AC answers a topology that holds.

The tiny feeder (tests/netbuild.py: a ring s-a-b-c-s, three radial topologies) with the tie
s-c at r = 1.5 ohm, x = 2.0 ohm, 1.5 MVAr of load at c, 4 MW of PV at c (a generator held at
4 MW, q = 0) and v_max 1.0164 p.u. Opening the tie has the least losses, and the SOCP
relaxation holds its voltage at c within v_max through losses that no power flow has (the
relaxation is not exact when v_max binds under reverse flow: Gan, Li, Topcu & Low, IEEE TAC
60(1), 2015), so the model's optimum opens tie1, whose AC voltage at c is above v_max. Before,
the solve answered it "optimal" with exit 4 (and only advised --ac-polish) although another
radial topology holds every limit in AC.

The truth is pandapower's ``runpp`` of every radial topology of the feeder built by hand
(``tiny_pandapower_net``): which topologies hold every limit, and the one of them with the
least AC losses.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io import write_folder
from feederopt.network import Network
from feederopt.validation.ac_limits import AC_LIMIT_TOLERANCE
from netbuild import set_value, tiny, tiny_pandapower_net, tiny_tables

pp = pytest.importorskip("pandapower")

PV_MW = 4.0
V_MAX = 1.0164
LINES = ("l2", "l3", "tie1")  # a radial topology opens one of the ring's switchable lines


def tables() -> dict[str, pl.DataFrame]:
    t = tiny_tables()
    t["branches"] = set_value(set_value(t["branches"], "tie1", "r_ohm", 1.5),
                              "tie1", "x_ohm", 2.0)
    t["loads"] = set_value(t["loads"], "Lc", "q_mvar", 1.5)
    return t


def network() -> Network:
    t = tables()
    gen = pl.DataFrame({"id": ["PV"], "bus": ["c"], "p_mw": [PV_MW], "q_mvar": [0.0],
                        "p_min_mw": [PV_MW], "p_max_mw": [PV_MW], "q_min_mvar": [0.0],
                        "q_max_mvar": [0.0]})
    return tiny(buses=t["buses"].with_columns(pl.lit(V_MAX).alias("v_max_pu")),
                branches=t["branches"], loads=t["loads"], generators=gen)


def truth() -> dict[str, tuple[bool, float]]:
    """Per radial topology (its open line): whether pandapower's power flow holds
    0.9 <= V <= v_max (within the AC check's tolerance), and its losses [kW]."""
    tol = AC_LIMIT_TOLERANCE["voltage_pu"]
    out: dict[str, tuple[bool, float]] = {}
    for line in LINES:
        net = tiny_pandapower_net({line}, tables=tables(), sgen=("c", PV_MW, 0.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, numba=False)
        vm = net.res_bus.vm_pu
        assert not vm.isna().any()
        out[line] = (bool(vm.max() <= V_MAX + tol and vm.min() >= 0.9 - tol),
                     float(net.res_line.pl_mw.sum() * 1e3))
    return out


def test_model_optimum_broken_in_ac_gives_way_to_a_topology_that_holds(
        tmp_path: Path) -> None:
    table = truth()
    least = min(table, key=lambda o: table[o][1])
    holds = {o: loss for o, (ok, loss) in table.items() if ok}
    assert not table[least][0] and holds, "the fixture: the least-loss topology breaks v_max"
    best = min(holds, key=lambda o: holds[o])
    write_folder(network(), tmp_path / "net", fmt="csv")
    res = CliRunner().invoke(app, [
        "solve", str(tmp_path / "net"), "--time-limit", "30", "--json",
        str(tmp_path / "r.json")], env={"COLUMNS": "240"})
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [b["id"] for b in doc["open_branches"]] == [best]
    # the model's optimum broke v_max in AC (pandapower says so too)
    (model_open,) = doc["ac_choice"]["model_answer_open"]
    assert not table[model_open][0]
    assert doc["within_limits"] is True
    assert doc["status"] == "feasible"  # the model's optimum is no longer the answer
    assert res.exit_code == 0, res.output
    assert doc["ac_check"]["losses_kw"] == pytest.approx(holds[best], rel=1e-4)
    out = " ".join(res.output.split())
    assert "breaks them in the AC power flow" in out
    assert "not proven optimal in AC" in out


def test_ac_polish_still_searches_from_the_model_optimum() -> None:
    """--ac-polish keeps its branch exchange from the model's answer (no AC choice first):
    it reaches a topology that pandapower holds within the limits."""
    table = truth()
    r = feederopt.solve(network(), time_limit=30, ac_polish=True)
    assert "ac_choice" not in r.extra
    assert r.extra["polish"]["kept"] is True
    (opened,) = [b["id"] for b in r.open_branches]
    assert table[opened][0]
