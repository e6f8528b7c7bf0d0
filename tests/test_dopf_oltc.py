"""Transformer OLTCs in the DOPF (issue 16): the tap is an integer master choice with
``v_to = v_from / n^2`` written exactly, and the pandapower writer maps it to the trafo's tap
fields (``tap_pos``, ``tap_min``, ``tap_max``, ``tap_step_percent``, ``tap_side``, ``oltc``).

Reference: pandapower's Newton-Raphson power flow (``pp.runpp``) on the written net, at every tap
position for the chosen topology: the chosen position is the one with the least AC losses
among those within the voltage limits, and the model's losses and voltages at it equal
pandapower's.
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
import polars as pl
import pytest

import feederopt
from dopf_grid import tap_grid, tap_grid_tables
from feederopt.algorithms.dopf import solve_dopf_misocp
from feederopt.io.pandapower import from_pandapower, to_pandapower
from feederopt.network import InputError, Network
from feederopt.network.devices import per_unit_devices
from feederopt.network.perunit import to_per_unit
from feederopt.problems.dopf import DopfProblem


def test_the_chosen_tap_reproduces_runpp_and_is_the_best_position() -> None:
    net = tap_grid()
    result = feederopt.solve(net)
    d = result.to_dict()
    assert d["status"] == "optimal"
    oltc = next(x for x in d["devices"] if x["kind"] == "oltc")
    assert oltc["branch"] == "T1"
    closed = dict(zip(result.branches["id"], result.branches["closed"], strict=True))
    fixed = net.replace(branches=net.branches.with_columns(
        pl.col("id").replace_strict(closed, return_dtype=pl.Boolean).not_()
        .alias("normally_open")))
    pp_net = to_pandapower(fixed)
    tr = pp_net.trafo.iloc[0]
    assert (tr["tap_side"], int(tr["tap_min"]), int(tr["tap_max"]), int(tr["tap_pos"])) == (
        "hv", 0, 8, 4)  # ratio 1.0 = 0.95 + 4 x 0.0125
    assert bool(tr["oltc"]) and tr["tap_step_percent"] == pytest.approx(100 * 0.0125 / 0.95)
    names = list(pp_net.bus["name"])
    loads = [names.index(b) for b in ("s", "a", "b", "c", "d")]
    ac = {}
    for pos in range(9):
        pp_net.trafo.at[pp_net.trafo.index[0], "tap_pos"] = pos
        pp.runpp(pp_net)
        vm = pp_net.res_bus.vm_pu.to_numpy()[loads]
        losses = 1000 * (pp_net.res_line.pl_mw.sum() + pp_net.res_trafo.pl_mw.sum())
        ac[pos] = (losses, vm, bool(np.all(vm <= 1.04 + 1e-9) and np.all(vm >= 0.95 - 1e-9)))
    feasible = {p: v[0] for p, v in ac.items() if v[2]}
    best = min(feasible, key=feasible.__getitem__)
    assert 0 < best < 8  # the voltage limit binds: the lowest ratio is out
    assert oltc["ratio_pu"] == pytest.approx(0.95 + 0.0125 * best)
    assert d["costs"]["losses_kw"] == pytest.approx(ac[best][0], rel=1e-4)
    vm_model = dict(zip(result.buses["id"], result.buses["vm_pu"], strict=True))
    assert [vm_model[b] for b in ("s", "a", "b", "c", "d")] == pytest.approx(ac[best][1],
                                                                             abs=1e-4)
    # The monolithic MISOCP on SCIP (the same tap rows) agrees.
    pu = to_per_unit(net)
    scip = solve_dopf_misocp(DopfProblem(pu, per_unit_devices(net, pu)))
    assert scip.status.value == "optimal"
    assert scip.objective == pytest.approx(d["objective"], rel=1e-4)


def test_pandapower_round_trip_keeps_the_oltc() -> None:
    back = from_pandapower(to_pandapower(tap_grid()))
    t1 = back.branches.filter(pl.col("kind") == "transformer").row(0, named=True)
    assert t1["tap_controllable"] and t1["tap_steps"] == 9
    assert (t1["tap_min_ratio"], t1["tap_max_ratio"], t1["tap_ratio"]) == pytest.approx(
        (0.95, 1.05, 1.0))
    assert not back.branches.filter(pl.col("kind") == "line")["tap_controllable"].any()


@pytest.mark.parametrize(("column", "value", "kind", "field"), [
    ("tap_min_ratio", 1.2, "inverted_limits", "tap_min_ratio"),
    ("tap_steps", 1, "invalid_value", "tap_steps"),
])
def test_bad_transformer_taps_are_typed_problems(column: str, value: object, kind: str,
                                                 field: str) -> None:
    t = tap_grid_tables()
    t["branches"] = t["branches"].with_columns(
        pl.when(pl.col("id") == "T1").then(pl.lit(value)).otherwise(pl.col(column))
        .cast(t["branches"].schema[column]).alias(column))
    with pytest.raises(InputError) as err:
        Network.from_tables(**t, name="bad").check()
    assert (kind, "branches", field) in {(p.kind.value, p.component, p.field)
                                         for p in err.value.problems}


def test_a_controllable_tap_on_a_line_is_a_typed_problem() -> None:
    t = tap_grid_tables()
    t["branches"] = t["branches"].with_columns(
        (pl.col("id") == "l1").alias("tap_controllable"),
        pl.when(pl.col("id") == "l1").then(0.9).otherwise(pl.col("tap_min_ratio"))
        .alias("tap_min_ratio"),
        pl.when(pl.col("id") == "l1").then(1.1).otherwise(pl.col("tap_max_ratio"))
        .alias("tap_max_ratio"),
        pl.when(pl.col("id") == "l1").then(5).otherwise(pl.col("tap_steps")).alias("tap_steps"))
    with pytest.raises(InputError) as err:
        Network.from_tables(**t, name="bad").check()
    assert any(p.field == "tap_controllable" and "l1" in p.ids for p in err.value.problems)
