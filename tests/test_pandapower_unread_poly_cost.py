"""A ``poly_cost`` term that the model leaves out is named in a note, not dropped silently
(recheck_c B): the costs read ``cp0_eur``, ``cp1_eur_per_mw`` and ``cp2_eur_per_mw2`` of a
controllable sgen, of a gen and (since session 43) of an ext_grid (the import cost; its
``cp1_eur_per_mw`` since session 42, tests/test_dopf_pp_poly_cost.py), so a reactive ``cq*``
term is not in the costs; pandapower's ``runopp`` counts it in ``res_cost``. Session 40 read
them as nothing, without a word."""

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


def test_a_reactive_term_is_named_and_is_what_the_dg_cost_misses() -> None:
    opf = _grid("sgen")
    pp.runopp(opf)
    assert opf.res_sgen.p_mw.tolist() == pytest.approx([1.0, 0.5], abs=1e-6)
    q = float(opf.res_sgen.q_mvar[0])
    truth = float(opf.res_cost)  # 30 + 4 x 1^2 + 25 + 5 + 7 = 71, + 4 q^2
    assert truth == pytest.approx(71.0 + 4 * q**2, rel=1e-6)

    net = from_pandapower(_grid("sgen"))
    notes = _cost_notes(net)
    assert len(notes) == 1  # session 40: none
    assert "poly_cost row 0 (sgen:0): cq2_eur_per_mvar2 4" in notes[0]
    assert "cp2" not in notes[0].split("):")[0]  # read since session 42
    assert "row 1" not in notes[0]  # its terms are all read
    result = feederopt.solve(net, time_limit=30, loss_price_per_mwh=50.0)
    assert result.dopf is not None
    # the quadratic term is in the DG cost (session 41: 67), the reactive one is not
    assert result.dopf.costs["dg_per_h"] == pytest.approx(71.0, rel=1e-6)


def test_a_gens_cost_is_read_and_an_ext_grids_reactive_term_named() -> None:
    opf = _grid("gen")
    pp.runopp(opf)
    assert float(opf.res_cost) == pytest.approx(30 * 1.0 + 25, rel=1e-6)  # 55, by hand
    assert _cost_notes(from_pandapower(_grid("gen"))) == []  # session 41: named, unread
    net = _grid("gen")
    # cp0_eur is read since session 43 (tests/test_dopf_ext_grid_cost.py); cq1 is not
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=10, cp0_eur=3, cq1_eur_per_mvar=2)
    notes = [w for w in _cost_notes(from_pandapower(net)) if "not modelled" in w]
    assert len(notes) == 1
    assert "poly_cost row 1 (ext_grid:0): cq1_eur_per_mvar 2" in notes[0]
    assert "cp0_eur 3" not in notes[0]


def test_read_terms_and_out_of_service_units_give_no_note() -> None:
    net = _grid("sgen")
    net.poly_cost.loc[0, "cq2_eur_per_mvar2"] = 0.0
    assert _cost_notes(from_pandapower(net)) == []
    sgen = _grid("sgen")
    sgen.sgen.loc[0, "in_service"] = False
    assert _cost_notes(from_pandapower(sgen)) == []
