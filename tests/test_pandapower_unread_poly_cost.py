"""A ``poly_cost`` term that the model leaves out is named in a note, not dropped silently
(recheck_c B): the costs read ``cp0_eur``, ``cp1_eur_per_mw`` and ``cp2_eur_per_mw2`` of a
controllable sgen, of a gen and (since session 43) of an ext_grid (the import cost; its
``cp1_eur_per_mw`` since session 42, tests/test_dopf_pp_poly_cost.py), and since session 44
their reactive ``cq*`` terms (tests/test_dopf_reactive_poly_cost.py), so the note now names
only a term that is still not read: a load's ``cq*``. pandapower's ``runopp`` counts every
term in ``res_cost``. Session 40 read them as nothing, without a word."""

from __future__ import annotations

import warnings

import pandapower as pp
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")


def _grid(unit: str) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0, min_vm_pu=0.9, max_vm_pu=1.1) for _ in range(4)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2), (1, 3)):
        pp.create_line_from_parameters(net, b[f], b[t], 3.0, 0.4, 0.4, 10.0, 0.4)
    pp.create_load(net, b[1], 0.5, 0.2)
    pp.create_load(net, b[3], 0.3, 0.1)
    if unit == "sgen":
        pp.create_sgen(net, b[2], 1.0, 0.0, sn_mva=2, controllable=True, min_p_mw=1.0,
                       max_p_mw=1.0, min_q_mvar=-0.5, max_q_mvar=0.5)
        pp.create_sgen(net, b[3], 0.5, 0.0, sn_mva=1, controllable=True, min_p_mw=0.5,
                       max_p_mw=0.5, min_q_mvar=-0.3, max_q_mvar=0.3)
        pp.create_poly_cost(net, 0, "sgen", cp1_eur_per_mw=30, cp0_eur=25, cp2_eur_per_mw2=4,
                            cq2_eur_per_mvar2=4)
        pp.create_poly_cost(net, 1, "sgen", cp1_eur_per_mw=10, cp0_eur=7)
    else:
        pp.create_gen(net, b[2], 1.0, vm_pu=1.0, controllable=True, min_p_mw=1.0,
                      max_p_mw=1.0, min_q_mvar=-0.5, max_q_mvar=0.5)
        pp.create_poly_cost(net, 0, "gen", cp1_eur_per_mw=30, cp0_eur=25)
    return net


def _cost_notes(net: feederopt.Network) -> list[str]:
    return [w for w in net.meta["warnings"] if "poly_cost" in w]


def test_a_reactive_term_is_read_and_in_the_dg_cost() -> None:
    opf = _grid("sgen")
    pp.runopp(opf)
    assert opf.res_sgen.p_mw.tolist() == pytest.approx([1.0, 0.5], abs=1e-6)
    q = float(opf.res_sgen.q_mvar[0])
    truth = float(opf.res_cost)  # 30 + 4 x 1^2 + 25 + 5 + 7 = 71, + 4 q^2
    assert truth == pytest.approx(71.0 + 4 * q**2, rel=1e-6)

    net = from_pandapower(_grid("sgen"))
    assert _cost_notes(net) == []  # session 43: "cq2_eur_per_mvar2 4" not modelled
    result = feederopt.solve(net, time_limit=30, loss_price_per_mwh=50.0)
    assert result.dopf is not None
    (unit,) = [d for d in result.dopf.devices if d["id"] == "sgen:0"]
    q_ours = float(unit["q_mvar"])
    # the quadratic terms are in the DG cost, by hand at our dispatch (session 41: 67;
    # session 43: 71, without 4 q^2)
    assert result.dopf.costs["dg_per_h"] == pytest.approx(71.0 + 4 * q_ours**2, rel=1e-6)
    assert abs(q_ours) > 1e-3  # the loss price moves q off runopp's 0: the term counts


def test_a_gens_cost_is_read_and_a_loads_reactive_term_named() -> None:
    opf = _grid("gen")
    pp.runopp(opf)
    assert float(opf.res_cost) == pytest.approx(30 * 1.0 + 25, rel=1e-6)  # 55, by hand
    assert _cost_notes(from_pandapower(_grid("gen"))) == []  # session 41: named, unread
    net = _grid("gen")
    # an ext_grid's cp0_eur is read since session 43, its cq1 since session 44
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=10, cp0_eur=3, cq1_eur_per_mvar=2)
    assert not [w for w in _cost_notes(from_pandapower(net)) if "not modelled" in w]
    # a load's cq1 is not read (a flexible load's q follows its p at its power factor)
    net.load.loc[0, ["controllable", "min_p_mw", "max_p_mw"]] = [True, 0.25, 0.5]
    pp.create_poly_cost(net, 0, "load", cp1_eur_per_mw=-20, cq1_eur_per_mvar=2)
    notes = [w for w in _cost_notes(from_pandapower(net)) if "not modelled" in w]
    assert len(notes) == 1
    assert "poly_cost row 2 (load:0): cq1_eur_per_mvar 2" in notes[0]
    assert "ext_grid" not in notes[0].split("):")[0]


def test_read_terms_and_out_of_service_units_give_no_note() -> None:
    net = _grid("sgen")
    net.poly_cost.loc[0, "cq2_eur_per_mvar2"] = 0.0
    assert _cost_notes(from_pandapower(net)) == []
    sgen = _grid("sgen")
    sgen.sgen.loc[0, "in_service"] = False
    assert _cost_notes(from_pandapower(sgen)) == []
