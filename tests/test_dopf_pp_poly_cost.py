"""pandapower's ``poly_cost`` as the DOPF's costs, against pandapower's own ``runopp``
(session 42; before, session 41 only named these terms in a note):

* a ``gen``'s ``cp1_eur_per_mw`` and ``cp0_eur`` were ignored (and ``--loss-price`` was
  refused with "no generator ... has a cost_per_mwh or fixed_cost_per_h" on a net whose only
  cost was a gen's);
* a quadratic ``cp2_eur_per_mw2`` was dropped (now an epigraph cone: exact in the SOCP slave
  and the MISOCP, tangents in the Benders master); a negative one is refused by name;
* an ``ext_grid``'s ``cp1_eur_per_mw`` did not price the import (now
  ``buses.import_price_per_mwh``, ``costs.import_per_h``).

The grid: 20 kV, ext_grid (import at 40 per MWh) - 2 km - bus 1 (1.0 MW load) - 2 km - bus 2
with a controllable sgen (0..1.5 MW, q 0; 20 per MWh + 15 per MW^2 h) and, from bus 1, 2 km to
bus 3 (0.8 MW load) with a gen held at 0.4 MW and 1.0 p.u. (not controllable; 30 per MWh + 25
per hour). runopp's ``res_cost`` is ``40 p_ext + 20 p + 15 p^2 + 30 x 0.4 + 25``; the DOPF's
cost terms other than the losses' (``dg_per_h + import_per_h``) are the same function at the
DOPF's dispatch (checked by hand below), and its dispatch is within 1 kW of runopp's (the
DistFlow SOCP's losses, 0.914 kW, differ from AC by about 0.3 W here; the DOPF also prices the
losses at lambda, which moves the optimum by far less than that). Tolerance on the cost: 1e-5
relative (measured 1e-7)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io.pandapower import from_pandapower
from feederopt.network import InputError
from netbuild import star4_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

IMPORT, CP1, CP2, GEN_CP1, GEN_CP0, GEN_P = 40.0, 20.0, 15.0, 30.0, 25.0, 0.4
LOADS = 1.0 + 0.8
LOSS_PRICE = 40.0


def _grid(cp2: float = CP2) -> pp.pandapowerNet:
    net = star4_pandapower()
    b = list(net.bus.index)
    pp.create_sgen(net, b[2], 0.5, 0.0, sn_mva=2, controllable=True, min_p_mw=0.0,
                   max_p_mw=1.5, min_q_mvar=0.0, max_q_mvar=0.0)
    pp.create_gen(net, b[3], GEN_P, vm_pu=1.0, controllable=False, min_q_mvar=-1,
                  max_q_mvar=1)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=CP1, cp2_eur_per_mw2=cp2)
    pp.create_poly_cost(net, 0, "gen", cp1_eur_per_mw=GEN_CP1, cp0_eur=GEN_CP0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=IMPORT)
    return net


@pytest.fixture(scope="module")
def runopp() -> pp.pandapowerNet:
    opf = _grid()
    pp.runopp(opf)
    return opf


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_the_costs_are_runopps_at_the_same_dispatch(runopp: pp.pandapowerNet,
                                                    method: str) -> None:
    truth = float(runopp.res_cost)
    p_opf = float(runopp.res_sgen.p_mw[0])
    # runopp's cost by hand at its own dispatch (its import is its ext_grid's p)
    assert truth == pytest.approx(
        IMPORT * float(runopp.res_ext_grid.p_mw[0]) + CP1 * p_opf + CP2 * p_opf**2
        + GEN_CP1 * GEN_P + GEN_CP0, rel=1e-9)

    result = feederopt.solve(from_pandapower(_grid()), time_limit=30,
                             loss_price_per_mwh=LOSS_PRICE, method=method)
    assert result.status.value == "optimal" and result.dopf is not None
    costs = result.dopf.costs
    (unit,) = [d for d in result.dopf.devices if d["id"] == "sgen:0"]
    p = float(unit["p_mw"])
    assert p == pytest.approx(p_opf, abs=1e-3)  # 0.6684 against runopp's 0.6676 MW
    # by hand at our dispatch: the gen's energy and fixed cost, the sgen's linear and
    # quadratic cost (main: 20 p alone), the import of the model's power balance
    assert costs["dg_per_h"] == pytest.approx(
        CP1 * p + CP2 * p**2 + GEN_CP1 * GEN_P + GEN_CP0, rel=1e-6)
    imported = LOADS - GEN_P - p + costs["losses_kw"] / 1000.0
    assert costs["import_per_h"] == pytest.approx(IMPORT * imported, rel=1e-5)
    # pandapower's own cost: ours without the loss term
    assert costs["dg_per_h"] + costs["import_per_h"] == pytest.approx(truth, rel=1e-5)
    # the objective [kW-eq] is losses + 1000 / lambda x the money; the bound holds
    assert result.objective == pytest.approx(
        costs["losses_kw"] + 1000.0 / LOSS_PRICE * (costs["dg_per_h"]
                                                    + costs["import_per_h"]), rel=1e-6)
    assert result.lower_bound <= result.objective * (1 + 1e-6)
    assert result.lower_bound >= result.objective * (1 - 1e-3)  # the master's tangents


def test_the_reader_takes_every_term_and_says_so() -> None:
    net = from_pandapower(_grid())
    g = {r["id"]: r for r in net.generators.iter_rows(named=True)}
    assert g["sgen:0"]["cost_per_mw2_per_h"] == CP2 and g["sgen:0"]["cost_per_mwh"] == CP1
    assert g["gen:0"]["cost_per_mwh"] == GEN_CP1 and g["gen:0"]["fixed_cost_per_h"] == GEN_CP0
    assert g["gen:0"]["p_min_mw"] == g["gen:0"]["p_max_mw"] == GEN_P  # held: not controllable
    assert net.buses.filter(net.buses["is_source"])["import_price_per_mwh"].to_list() == [
        IMPORT]
    notes = net.meta["warnings"]
    assert not [w for w in notes if "not modelled" in w]  # every term is read
    assert any("import price" in w and "ext_grid:0 40 per MWh" in w for w in notes)


def test_a_controllable_gen_is_dispatched_within_its_limits() -> None:
    net = _grid()
    net.gen.loc[0, ["controllable", "min_p_mw", "max_p_mw"]] = [True, 0.1, 0.9]
    read = from_pandapower(net)
    g = read.generators.filter(read.generators["id"] == "gen:0").row(0, named=True)
    assert (g["p_min_mw"], g["p_max_mw"], g["v_set_pu"]) == (0.1, 0.9, 1.0)
    assert g["committable"] and g["must_run"]  # always on, as runopp runs it
    result = feederopt.solve(read, time_limit=30, loss_price_per_mwh=LOSS_PRICE)
    assert result.status.value == "optimal" and result.dopf is not None
    (unit,) = [d for d in result.dopf.devices if d["id"] == "gen:0"]
    # 30 per MWh against the import's 40 (+ the losses): at its upper limit, by hand
    assert float(unit["p_mw"]) == pytest.approx(0.9, abs=1e-4)
    p = float(next(d for d in result.dopf.devices if d["id"] == "sgen:0")["p_mw"])
    assert result.dopf.costs["dg_per_h"] == pytest.approx(
        CP1 * p + CP2 * p**2 + GEN_CP1 * 0.9 + GEN_CP0, rel=1e-6)


def test_a_gens_cost_alone_takes_the_loss_price() -> None:
    net = _grid()
    net.sgen.drop(net.sgen.index, inplace=True)
    net.poly_cost = net.poly_cost[net.poly_cost["et"] == "gen"]
    # main: refused, "no generator ... has a cost_per_mwh or fixed_cost_per_h"
    result = feederopt.solve(from_pandapower(net), time_limit=20, loss_price_per_mwh=50.0)
    # no device: reconfiguration's objective, losses + 1000 / lambda (30 x 0.4 + 25), by hand
    assert result.objective == pytest.approx(
        result.losses_kw + 1000.0 / 50.0 * (GEN_CP1 * GEN_P + GEN_CP0), rel=1e-3)


def test_a_negative_quadratic_cost_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        from_pandapower(_grid(cp2=-1.0))
    (problem,) = [p for p in err.value.problems if p.field == "cp2_eur_per_mw2"]
    assert problem.ids == ("sgen:0",) and "non-convex" in problem.message
    path = tmp_path / "net.json"
    pp.to_json(_grid(cp2=-1.0), str(path))
    res = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "5"])
    assert res.exit_code == 2, res.output
    assert "cp2_eur_per_mw2" in res.output and "Traceback" not in res.output
    # the table column, as a folder gives it
    net = from_pandapower(_grid())
    gens = net.generators.with_columns(
        pl.when(pl.col("id") == "sgen:0").then(-1.0).otherwise(pl.col("cost_per_mw2_per_h"))
        .alias("cost_per_mw2_per_h"))
    with pytest.raises(InputError) as err:
        feederopt.solve(net.replace(generators=gens), time_limit=5, loss_price_per_mwh=40.0)
    assert [p.ids for p in err.value.problems if p.field == "cost_per_mw2_per_h"] == [
        ("sgen:0",)]
