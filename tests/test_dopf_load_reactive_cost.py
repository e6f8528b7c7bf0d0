"""A pandapower controllable load's reactive power and its ``cq*`` costs, against ``runopp``.

``runopp`` takes a ``controllable`` load as a generator of ``-p``, ``-q`` within its
``min/max_p_mw`` and ``min/max_q_mvar`` (``pandapower.build_gen._build_pp_pq_element``): its q
is a decision of its own, and its ``poly_cost`` row prices it with sign -1 on that injection
(``pandapower.opf.make_objective._fill_gencost_poly``), i.e. ``cq1 q - cq2 q^2 - cq0`` of the
consumed ``q``. Before (session 44) the DOPF moved a flexible load's q with its p at its power
factor and named the ``cq*`` terms in a note ("not modelled"): on the net below its costs
were 104.935 per hour in every case, against ``runopp``'s 99.997 ("reward") to 102.731
("quadratic"), and the load's q 0.533 MVAr where ``runopp`` puts it at -0.4 MVAr.

The net: the 4-bus star (4 km, 0.3 Ohm/km), an ext_grid at 40 per MWh + 1 per MVAr h, fixed
loads at buses 1 and 3, and at bus 2 a controllable load of 1.5 MW, 0.8 MVAr that may fall to
1.0 MW, its q within -0.4..1.0 MVAr, priced -10 per MWh (cp1) + 0.7 per h (cq0) + the reactive
terms of each case. The relaxation is exact (radial, loads only), so at the least loss price
the DOPF's costs are ``runopp``'s ``res_cost`` (tight tolerances) up to the constants that
the DOPF's flexibility leaves out: ``cp1 x p_mw`` (it prices the reduction ``-cp1 (p_mw -
p)``, not the demand ``cp1 p``), checked by hand below.
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
from feederopt.options import MIN_LOSS_PRICE_PER_MWH
from netbuild import star4_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

TIGHT = {"OPF_VIOLATION": 1e-10, "PDIPM_COSTTOL": 1e-10, "PDIPM_GRADTOL": 1e-10,
         "PDIPM_COMPTOL": 1e-10, "PDIPM_FEASTOL": 1e-10}
CP1, P_MW = -10.0, 1.5
#: (cq1, cq2) of the load's row: a linear price whose optimum is the range's lower end, a
#: reward at the upper end, and a convex quadratic (cq2 < 0: -cq2 q^2 >= 0) inside the range
CASES = {"linear": (2.0, 0.0), "reward": (-5.0, 0.0), "quadratic": (2.0, -3.0),
         "inside": (0.0, -20.0)}


def _net(cq1: float, cq2: float) -> pp.pandapowerNet:
    net = star4_pandapower((0.9, 1.1), 4.0, 0.3, ((1, 1.0, 0.5), (3, 0.8, 0.4)))
    ld = pp.create_load(net, 2, P_MW, 0.8, controllable=True, min_p_mw=1.0, max_p_mw=P_MW,
                        min_q_mvar=-0.4, max_q_mvar=1.0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=40.0, cq1_eur_per_mvar=1.0)
    pp.create_poly_cost(net, ld, "load", cp1_eur_per_mw=CP1, cq0_eur=0.7,
                        cq1_eur_per_mvar=cq1, cq2_eur_per_mvar2=cq2)
    return net


def _runopp(net: pp.pandapowerNet) -> pp.pandapowerNet:
    pp.runopp(net, init="pf", **TIGHT)
    assert net.OPF_converged
    return net


@pytest.fixture(scope="module")
def truth() -> dict[str, pp.pandapowerNet]:
    out = {}
    for name, (cq1, cq2) in CASES.items():
        opf = _runopp(_net(cq1, cq2))
        # runopp's cost by hand at its own point: the load's terms with sign -1
        p, q = float(opf.res_load.p_mw[2]), float(opf.res_load.q_mvar[2])
        pe, qe = float(opf.res_ext_grid.p_mw[0]), float(opf.res_ext_grid.q_mvar[0])
        assert float(opf.res_cost) == pytest.approx(
            40 * pe + qe + CP1 * p + cq1 * q - cq2 * q * q - 0.7, rel=1e-9)
        out[name] = opf
    return out


@pytest.mark.parametrize("method", ["benders", "misocp"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_costs_and_the_loads_q_are_runopps(truth: dict[str, pp.pandapowerNet],
                                                case: str, method: str) -> None:
    opf = truth[case]
    result = feederopt.solve(from_pandapower(_net(*CASES[case])), time_limit=30,
                             method=method, loss_price_per_mwh=MIN_LOSS_PRICE_PER_MWH)
    assert result.status.value == "optimal" and result.dopf is not None
    costs = result.dopf.costs
    ours = costs["dg_per_h"] + costs["import_per_h"] + costs["flexibility_per_h"] + CP1 * P_MW
    assert ours == pytest.approx(float(opf.res_cost), rel=1e-6)
    (row,) = [d for d in result.dopf.devices if d["id"] == "load:2"]
    assert row["q_mvar"] == pytest.approx(float(opf.res_load.q_mvar[2]), abs=1e-4)
    assert P_MW - row["reduction_mw"] == pytest.approx(float(opf.res_load.p_mw[2]), abs=1e-4)
    # the AC check runs the chosen q: pandapower's runpp of the written net gives its losses
    written = result.to_pandapower(_net(*CASES[case]))
    assert float(written.load.q_mvar[2]) == pytest.approx(row["q_mvar"], abs=1e-9)
    pp.runpp(written)
    assert result.ac_check is not None
    assert result.ac_check.losses_kw == pytest.approx(
        float(written.res_line.pl_mw.sum()) * 1e3, abs=1e-6)


def test_the_reader_takes_the_range_and_the_terms_and_the_writer_writes_them() -> None:
    net = from_pandapower(_net(2.0, -3.0))
    row = net.loads.filter(pl.col("id") == "load:2").row(0, named=True)
    assert (row["flex_q_min_mvar"], row["flex_q_max_mvar"], row["flex_q_price_per_mvarh"],
            row["flex_q_cost_per_mvar2_per_h"], row["flex_q_fixed_cost_per_h"]) == (
        -0.4, 1.0, 2.0, 3.0, -0.7)
    assert not [w for w in net.meta["warnings"] if "not modelled" in w]
    # written back, runopp costs the written net as the input
    back = _runopp(to_pandapower(net))
    assert float(back.res_cost) == pytest.approx(float(_runopp(_net(2.0, -3.0)).res_cost),
                                                 rel=1e-8)


def test_a_load_without_a_q_range_keeps_its_note() -> None:
    """Without min/max_q_mvar the load's q follows its p (as before) and its cq* terms stay
    named; an uncontrollable load's row is no note at all: runopp prices no fixed load
    (its cost is not in res_cost, checked here)."""
    net = _net(2.0, 0.0)
    net.load.loc[2, ["min_q_mvar", "max_q_mvar"]] = float("nan")
    notes = [w for w in from_pandapower(net).meta["warnings"] if "not modelled" in w]
    assert len(notes) == 1 and "(load:2): cq0_eur 0.7, cq1_eur_per_mvar 2" in notes[0]
    fixed = _net(2.0, 0.0)
    fixed.load.loc[2, "controllable"] = False
    assert not [w for w in from_pandapower(fixed).meta["warnings"] if "not modelled" in w]
    opf = _runopp(fixed)
    assert float(opf.res_cost) == pytest.approx(
        40 * float(opf.res_ext_grid.p_mw[0]) + float(opf.res_ext_grid.q_mvar[0]), rel=1e-9)


def test_a_concave_load_q_cost_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        from_pandapower(_net(2.0, 3.0))
    (problem,) = err.value.problems
    assert (problem.kind.value, problem.component, problem.ids, problem.field) == (
        "invalid_value", "poly_cost", ("load:2",), "cq2_eur_per_mvar2")
    path = tmp_path / "net.json"
    pp.to_json(_net(2.0, 3.0), str(path))
    res = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "20"])
    assert res.exit_code == 2 and "load:2" in res.output and "cq2_eur_per_mvar2" in res.output
    assert "Traceback" not in res.output


def test_an_inverted_q_range_is_refused() -> None:
    net = _net(2.0, 0.0)
    net.load.loc[2, ["min_q_mvar", "max_q_mvar"]] = [1.0, -0.4]
    with pytest.raises(InputError) as err:
        from_pandapower(net)
    (problem,) = err.value.problems
    assert (problem.kind.value, problem.component, problem.ids, problem.field) == (
        "inverted_limits", "loads", ("load:2",), "min_q_mvar")


def test_a_table_folders_q_range_is_checked() -> None:
    """The columns as a table folder gives them: an inverted range and a concave cost are
    typed problems naming the load (network.devices.device_problems)."""
    from feederopt.network.devices import device_problems

    net = from_pandapower(_net(2.0, -3.0))
    loads = net.loads.with_columns(
        pl.when(pl.col("id") == "load:2").then(2.0).otherwise(pl.col("flex_q_min_mvar"))
        .alias("flex_q_min_mvar"),
        pl.when(pl.col("id") == "load:2").then(-1.0)
        .otherwise(pl.col("flex_q_cost_per_mvar2_per_h")).alias("flex_q_cost_per_mvar2_per_h"))
    found = {(p.kind.value, p.field, p.ids) for p in device_problems(net.replace(loads=loads))}
    assert ("inverted_limits", "flex_q_min_mvar", ("load:2",)) in found
    assert ("invalid_value", "flex_q_cost_per_mvar2_per_h", ("load:2",)) in found
