"""An ext_grid's ``poly_cost`` ``cp2_eur_per_mw2`` and ``cp0_eur`` are read (session 43; before,
only ``cp1_eur_per_mw`` was, the other two named in a note): ``cp2`` as a quadratic import
cost ``c2 ps^2`` (an epigraph cone, exact in the SOCP slave and the MISOCP, tangents in the
Benders master), ``cp0`` as a constant of the objective, so that ``dg_per_h + import_per_h``
is pandapower's ``runopp`` ``res_cost``.

The grid: 20 kV, ext_grid (20 per MWh + 25 per MW^2 h + 7 per h) - 2 km - bus 1 (1.0 MW load)
- 2 km - bus 2 with a controllable sgen (0..1.5 MW, q 0; 30 per MWh + 10 per MW^2 h) and,
from bus 1, 2 km to bus 3 (0.8 MW load). A radial grid with no binding limit: the SOCP
relaxation is exact, so the DOPF's dispatch is runopp's but for the losses, which the DOPF
also prices at the loss price (0.3 kW at this dispatch; runopp's sgen 1.1434 MW, ours within
1e-3 MW). runopp's ``res_cost`` is checked by hand at its own dispatch first; ours is the same
function of our dispatch, within 1e-4 of runopp's value (measured 3e-8)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

import feederopt
from feederopt.cli import app
from feederopt.io.pandapower import from_pandapower, to_pandapower
from feederopt.network import InputError
from netbuild import star4_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

CP0, CP1, CP2 = 7.0, 20.0, 25.0  # the ext_grid's
SG1, SG2 = 30.0, 10.0  # the sgen's
LOADS = 1.0 + 0.8
LOSS_PRICE = 40.0


def _grid(cp2: float = CP2) -> pp.pandapowerNet:
    net = star4_pandapower()
    b = list(net.bus.index)
    pp.create_sgen(net, b[2], 0.5, 0.0, sn_mva=2, controllable=True, min_p_mw=0.0,
                   max_p_mw=1.5, min_q_mvar=0.0, max_q_mvar=0.0)
    pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=SG1, cp2_eur_per_mw2=SG2)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=CP1, cp2_eur_per_mw2=cp2,
                        cp0_eur=CP0)
    return net


@pytest.fixture(scope="module")
def runopp() -> pp.pandapowerNet:
    opf = _grid()
    pp.runopp(opf)
    return opf


@pytest.mark.parametrize("method", ["benders", "misocp"])
def test_the_import_cost_is_runopps(runopp: pp.pandapowerNet, method: str) -> None:
    truth = float(runopp.res_cost)
    p_opf, p_ext = float(runopp.res_sgen.p_mw[0]), float(runopp.res_ext_grid.p_mw[0])
    assert truth == pytest.approx(  # runopp's cost by hand at its own dispatch
        CP0 + CP1 * p_ext + CP2 * p_ext**2 + SG1 * p_opf + SG2 * p_opf**2, rel=1e-9)

    result = feederopt.solve(from_pandapower(_grid()), time_limit=30,
                             loss_price_per_mwh=LOSS_PRICE, method=method)
    assert result.status.value == "optimal" and result.dopf is not None
    costs = result.dopf.costs
    p = float(next(d for d in result.dopf.devices if d["id"] == "sgen:0")["p_mw"])
    # the quadratic import moves the dispatch: 1.1434 MW (0.6684 at a linear 20 per MWh)
    assert p == pytest.approx(p_opf, abs=1e-3)
    imported = LOADS - p + costs["losses_kw"] / 1000.0  # the model's power balance
    # by hand at our dispatch (main: 20 x imported alone, 52.4 per hour less here)
    assert costs["import_per_h"] == pytest.approx(CP0 + CP1 * imported + CP2 * imported**2,
                                                  rel=1e-6)
    assert costs["dg_per_h"] + costs["import_per_h"] == pytest.approx(truth, rel=1e-4)
    assert result.objective == pytest.approx(
        costs["losses_kw"] + 1000.0 / LOSS_PRICE * (costs["dg_per_h"]
                                                    + costs["import_per_h"]), rel=1e-6)
    assert result.objective * (1 - 1e-3) <= result.lower_bound <= result.objective * (1 + 1e-6)


def test_the_terms_are_read_written_back_and_named() -> None:
    net = from_pandapower(_grid())
    src = net.buses.filter(net.buses["is_source"]).row(0, named=True)
    assert (src["import_price_per_mwh"], src["import_cost_per_mw2_per_h"],
            src["import_fixed_cost_per_h"]) == (CP1, CP2, CP0)
    notes = net.meta["warnings"]
    assert not [w for w in notes if "not modelled" in w]  # main: "cp0_eur 7, cp2_eur_per_mw2 25"
    assert any("ext_grid:0 20 per MWh + 25 per MW^2 h + 7 per h" in w for w in notes)
    # the writer writes them back: runopp on the written net has the same cost as on ours
    written = to_pandapower(net)
    row = written.poly_cost[written.poly_cost["et"] == "ext_grid"].iloc[0]
    assert (row["cp0_eur"], row["cp1_eur_per_mw"], row["cp2_eur_per_mw2"]) == (CP0, CP1, CP2)


def test_a_negative_quadratic_import_cost_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        from_pandapower(_grid(cp2=-1.0))
    (problem,) = [p for p in err.value.problems if p.field == "cp2_eur_per_mw2"]
    assert problem.ids == ("ext_grid:0",) and "non-convex" in problem.message
    path = tmp_path / "net.json"
    pp.to_json(_grid(cp2=-1.0), str(path))
    res = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "5"])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    # the table column, as a folder gives it
    net = from_pandapower(_grid())
    buses = net.buses.with_columns(
        (net.buses["import_cost_per_mw2_per_h"] * 0 - 1.0).alias("import_cost_per_mw2_per_h"))
    with pytest.raises(InputError) as err:
        feederopt.solve(net.replace(buses=buses), time_limit=5, loss_price_per_mwh=40.0)
    assert [p.field for p in err.value.problems] == ["import_cost_per_mw2_per_h"]
