"""pandapower's reactive ``poly_cost`` terms (``cq0_eur``, ``cq1_eur_per_mvar``,
``cq2_eur_per_mvar2``) as the DOPF's costs, against pandapower's own ``runopp``.

Before (session 43) they were only named in a note ("not modelled") and left out of the costs
and the objective. ``runopp`` prices ``cq0 + cq1 q + cq2 q^2`` of a gen's, sgen's or ext_grid's
injected ``q`` with sign +1 (``pandapower.opf.make_objective._fill_gencost_poly``; a load's
with -1). The model now holds ``cq1`` linearly and ``cq2 >= 0`` as an epigraph cone
(:mod:`feederopt.formulations.energy_cost`), ``cq0`` with the constants.

The grid: 20 kV, ext_grid (40 per MWh; 3 per MVAr h + 5 per MVAr^2 h + 0.5 per h) - 4 km - bus
1 (1.0 MW, 0.5 Mvar) - 4 km - bus 2 (1.5 MW, 0.8 Mvar) with a controllable sgen (0..1 MW, q
-1..1 Mvar; 30 per MWh, 2 per MVAr h + 8 per MVAr^2 h + 1.5 per h) and, from bus 1, 4 km to bus
3 (0.8 MW, 0.4 Mvar). The relaxation is exact here (radial, loads only), so the DOPF's cost at
the least loss price (0.001 per MWh, which moves its optimum by far less than the tolerance)
is ``runopp``'s ``res_cost`` (tight interior-point tolerances): 1e-6 relative (measured 4e-9);
before, 122.8406 against 138.3194 per hour (the reactive terms missing from the costs and
the dispatch).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import polars as pl
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io.pandapower import from_pandapower, to_pandapower
from feederopt.network import InputError
from netbuild import star4_pandapower
from runopp_costs import TIGHT, dopf_at_runopps_cost

warnings.filterwarnings("ignore", message=".*numba.*")

SGEN = {"cp1_eur_per_mw": 30.0, "cq0_eur": 1.5, "cq1_eur_per_mvar": 2.0,
        "cq2_eur_per_mvar2": 8.0}
GRID = {"cp1_eur_per_mw": 40.0, "cq0_eur": 0.5, "cq1_eur_per_mvar": 3.0,
        "cq2_eur_per_mvar2": 5.0}


def _grid(sgen: dict[str, float] | None = None) -> pp.pandapowerNet:
    net = star4_pandapower((0.9, 1.1), 4.0, 0.3,
                           ((1, 1.0, 0.5), (2, 1.5, 0.8), (3, 0.8, 0.4)))
    b = list(net.bus.index)
    pp.create_sgen(net, b[2], 0.5, 0.0, controllable=True, min_p_mw=0, max_p_mw=1.0,
                   min_q_mvar=-1.0, max_q_mvar=1.0)
    pp.create_poly_cost(net, 0, "sgen", **(SGEN if sgen is None else sgen))
    pp.create_poly_cost(net, 0, "ext_grid", **GRID)
    return net


@pytest.fixture(scope="module")
def runopp() -> pp.pandapowerNet:
    opf = _grid()
    pp.runopp(opf, init="pf", **TIGHT)
    assert opf.OPF_converged
    # runopp's cost by hand at its own point: every term, q with sign +1
    p, q = float(opf.res_sgen.p_mw[0]), float(opf.res_sgen.q_mvar[0])
    pe, qe = float(opf.res_ext_grid.p_mw[0]), float(opf.res_ext_grid.q_mvar[0])
    assert float(opf.res_cost) == pytest.approx(
        30 * p + 1.5 + 2 * q + 8 * q**2 + 40 * pe + 0.5 + 3 * qe + 5 * qe**2, rel=1e-9)
    return opf


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_the_costs_are_runopps(runopp: pp.pandapowerNet, method: str) -> None:
    result, unit = dopf_at_runopps_cost(from_pandapower(_grid()), runopp, method)
    assert result.dopf is not None
    costs = result.dopf.costs
    assert unit["q_mvar"] == pytest.approx(float(runopp.res_sgen.q_mvar[0]), abs=1e-4)
    # the sgen's share by hand at our dispatch
    p, q = float(unit["p_mw"]), float(unit["q_mvar"])
    assert costs["dg_per_h"] == pytest.approx(30 * p + 1.5 + 2 * q + 8 * q**2, rel=1e-6)
    assert result.lower_bound <= result.objective * (1 + 1e-6)
    assert result.lower_bound >= result.objective * (1 - 1e-3)  # the master's tangents
    if method == "benders":
        # the polish prices them too: it ties with the exact SOCP point
        assert result.dopf.ac_opf is not None
        assert result.dopf.ac_opf["verdict"] == "equal"


def test_the_reader_takes_them_the_writer_writes_them_and_info_shows_them(
        tmp_path: Path) -> None:
    net = from_pandapower(_grid())
    g = net.generators.filter(pl.col("id") == "sgen:0").row(0, named=True)
    assert (g["cost_per_mvarh"], g["cost_per_mvar2_per_h"], g["fixed_cost_per_h"]) == (
        2.0, 8.0, 1.5)
    src = net.buses.filter(pl.col("is_source")).row(0, named=True)
    assert (src["import_q_price_per_mvarh"], src["import_q_cost_per_mvar2_per_h"],
            src["import_fixed_cost_per_h"]) == (3.0, 5.0, 0.5)
    assert not [w for w in net.meta["warnings"] if "not modelled" in w]
    # written back: runopp costs the written net as the input
    back = to_pandapower(net)
    first, again = _grid(), back
    pp.runopp(first, init="pf", **TIGHT)
    pp.runopp(again, init="pf", **TIGHT)
    assert float(again.res_cost) == pytest.approx(float(first.res_cost), rel=1e-8)
    path = tmp_path / "net.json"
    pp.to_json(_grid(), str(path))
    res = CliRunner().invoke(app, ["info", str(path)], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    assert "2 per MVAr h + 8 per MVAr^2 h" in res.output


def test_a_negative_quadratic_reactive_cost_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        from_pandapower(_grid({**SGEN, "cq2_eur_per_mvar2": -1.0}))
    (problem,) = [p for p in err.value.problems if p.field == "cq2_eur_per_mvar2"]
    assert problem.ids == ("sgen:0",) and "non-convex" in problem.message
    path = tmp_path / "net.json"
    pp.to_json(_grid({**SGEN, "cq2_eur_per_mvar2": -1.0}), str(path))
    res = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "5"])
    assert res.exit_code == 2, res.output
    assert "cq2_eur_per_mvar2" in res.output and "Traceback" not in res.output
    # the table column, as a folder gives it
    net = from_pandapower(_grid())
    gens = net.generators.with_columns(pl.lit(-1.0).alias("cost_per_mvar2_per_h"))
    with pytest.raises(InputError) as err:
        feederopt.solve(net.replace(generators=gens), time_limit=5, loss_price_per_mwh=40.0)
    assert [p.ids for p in err.value.problems if p.field == "cost_per_mvar2_per_h"] == [
        ("sgen:0",)]


def test_a_negative_linear_reactive_cost_gets_a_note() -> None:
    net = from_pandapower(_grid({**SGEN, "cq1_eur_per_mvar": -2.0}))
    (note,) = [w for w in net.meta["warnings"] if "negative cq1_eur_per_mvar" in w]
    assert "sgen:0 -2 per MVAr h" in note and "not be exact" in note
