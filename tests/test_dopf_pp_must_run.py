"""A controllable pandapower sgen with ``min_p_mw`` > 0 is committed: the DOPF dispatches it
within its limits and never switches it off (user test ut40_dopfreal #2). pandapower's OPF,
which defines ``min/max_p_mw``, has no unit commitment: a Q-only unit (``min_p_mw = max_p_mw
= p``) runs at ``p`` with only ``q`` free. Before, feederopt read every controllable sgen as a
unit that may be off and switched five Q-only SimBench PV/wind units (about 8 MW) off to cut
the losses. ``net.sgen.committable`` True keeps the old unit commitment for a unit that asks
for it; ``min_p_mw`` 0 still lets ``p`` go to 0 (curtailment).

The grid: 20 kV, ext_grid - 3 km - bus 1 (0.5 MW load) - 3 km - bus 2 with a 2 MW sgen and
no load. Off, only the load's 0.5 MW flows (0.87 kW of losses, pandapower); on, its 2 MW
flow back, so switching it off is what a loss minimiser with unit commitment does."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pytest

import feederopt
from feederopt.io.pandapower import from_pandapower, to_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

P, Q_BAND = 2.0, 0.8


def _grid(committable: bool | None = None, min_p: float = P) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = [pp.create_bus(net, 20.0) for _ in range(3)]
    pp.create_ext_grid(net, b[0], vm_pu=1.0)
    for f, t in ((0, 1), (1, 2)):
        pp.create_line_from_parameters(net, b[f], b[t], 3.0, 0.4, 0.4, 10.0, 0.4)
    pp.create_load(net, b[1], 0.5, 0.2)
    pp.create_sgen(net, b[2], P, 0.0, sn_mva=P, controllable=True, min_p_mw=min_p,
                   max_p_mw=P, min_q_mvar=-Q_BAND, max_q_mvar=Q_BAND)
    if committable is not None:
        net.sgen["committable"] = committable
    return net


def _losses_kw(net: pp.pandapowerNet, p: float, q: float) -> float:
    """pandapower's own losses (lines) with the sgen at ``p``, ``q``."""
    net = _grid()
    net.sgen.loc[0, ["p_mw", "q_mvar"]] = p, q
    pp.runpp(net)
    return float(net.res_line.pl_mw.sum()) * 1000


def _sgen_row(result: feederopt.Result) -> dict[str, object]:
    assert result.dopf is not None
    (row,) = [d for d in result.dopf.devices if d["id"] == "sgen:0"]
    return row


def test_a_q_only_sgen_stays_on_at_p_with_the_loss_minimising_q() -> None:
    net = _grid()
    # switching it off would lower the losses: the old answer (0.867 kW)
    off = _grid()
    off.sgen.loc[0, "in_service"] = False
    pp.runpp(off)
    assert float(off.res_line.pl_mw.sum()) * 1000 < 1.0
    result = feederopt.solve(from_pandapower(net), time_limit=20)
    assert result.status.value == "optimal"
    row = _sgen_row(result)
    assert row["on"] is True and row["p_mw"] == pytest.approx(P, abs=1e-6)
    q = float(row["q_mvar"])  # type: ignore[arg-type]
    assert -Q_BAND - 1e-6 <= q <= Q_BAND + 1e-6
    # the reported losses are pandapower's at the returned dispatch
    truth = _losses_kw(net, P, q)
    assert result.losses_kw == pytest.approx(truth, rel=1e-4)
    # and the optimum over q: a brute-force grid of pandapower power flows (step 0.02 MVAr)
    # and pandapower's own OPF on the same (fixed, radial) grid
    brute = min(_losses_kw(net, P, x) for x in np.linspace(-Q_BAND, Q_BAND, 81))
    assert truth <= brute + 1e-3
    assert truth > 10.0  # on: about 18.4 kW, far above the 0.87 kW with the unit off
    opf = _grid()
    pp.create_poly_cost(opf, 0, "ext_grid", cp1_eur_per_mw=1.0)  # min import = min losses
    pp.runopp(opf)
    assert float(opf.res_sgen.p_mw[0]) == pytest.approx(P, abs=1e-4)  # pandapower keeps it on
    assert truth <= float(opf.res_line.pl_mw.sum()) * 1000 + 1e-3  # runopp: 18.436 kW


def test_the_pandapower_reading_marks_it_committed_and_round_trips() -> None:
    gens = from_pandapower(_grid()).generators
    assert gens["committable"].to_list() == [True] and gens["must_run"].to_list() == [True]
    again = from_pandapower(to_pandapower(from_pandapower(_grid())))
    assert again.generators["must_run"].to_list() == [True]


def test_a_committable_column_keeps_unit_commitment() -> None:
    """``net.sgen.committable`` True: feederopt may switch the unit off (0.87 kW)."""
    net = _grid(committable=True)
    gens = from_pandapower(net).generators
    assert gens["must_run"].to_list() == [False]
    assert from_pandapower(to_pandapower(from_pandapower(net))).generators[
        "must_run"].to_list() == [False]
    result = feederopt.solve(from_pandapower(net), time_limit=20)
    assert _sgen_row(result)["on"] is False
    assert result.losses_kw == pytest.approx(_losses_kw(net, 0.0, 0.0), rel=1e-3)


def test_min_p_zero_may_still_be_curtailed() -> None:
    """``min_p_mw`` 0: pandapower's OPF may curtail it (to 0 at the most); so does the DOPF:
    about 0.25 MW, half the load at bus 1, at losses that pandapower's power flow confirms."""
    net = _grid(min_p=0.0)
    assert from_pandapower(net).generators["must_run"].to_list() == [False]
    result = feederopt.solve(from_pandapower(net), time_limit=20)
    row = _sgen_row(result)
    p = float(row["p_mw"]) if row["on"] else 0.0  # type: ignore[arg-type]
    q = float(row["q_mvar"]) if row["on"] else 0.0  # type: ignore[arg-type]
    assert 0.0 <= p < 0.5 * P
    assert result.losses_kw == pytest.approx(_losses_kw(net, p, q), rel=1e-3)
