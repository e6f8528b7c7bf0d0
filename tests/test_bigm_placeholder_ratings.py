"""Placeholder ratings reach no big-M of the balanced solve (audit ``bigmaudit``, after
session 40's ``restore`` fix 08172ee; the audit's table is in docs/architecture.md, "Big-M
values and ratings").

pandapower's case33bw carries ``max_i_ka = 99999`` on every line (2.2e6 p.u. on the 1 MVA
base), and MATPOWER files often carry a huge ``RATE_A``. A rating is a valid flow bound, so the
DistFlow block takes ``M^P = min(P_tot, rating)`` (:func:`feederopt.formulations.distflow.
big_m`): a placeholder must leave every ``M`` at its value without any rating, else HiGHS's
integrality tolerance times ``M`` lets an "open" branch carry flow, as it did in ``restore``.

Independent truth: the same network without any rating (no ``M`` can come from a rating
there), the hand bound ``M^P <= 1.5 sum p_load`` (the loss allowance of 50 % on the 3,715 kW
of Baran & Wu's loads, no generation), the published optimum of case33bw (139.55 kW, ties
7, 9, 14, 32, 37 in Baran & Wu's numbering; Jabr, Singh & Pal, IEEE TPWRS 27(2), 2012) and
pandapower's power flow of the returned topology (no current on an open line).
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

import feederopt
from feederopt.formulations.distflow import DistFlowOptions, big_m, effective_ratings
from feederopt.network.perunit import to_per_unit

PLACEHOLDER_KA = 99999.0
PLACEHOLDER_MVA = 1e6


def _rated(net: feederopt.Network, i_max_ka: float | None,
           s_max_mva: float | None) -> feederopt.Network:
    b = net.branches.with_columns(pl.lit(i_max_ka, pl.Float64).alias("i_max_ka"),
                                  pl.lit(s_max_mva, pl.Float64).alias("s_max_mva"))
    return net.replace(branches=b)


@pytest.mark.parametrize("options", [DistFlowOptions(), DistFlowOptions(slack=True),
                                     DistFlowOptions(lossless=True)])
def test_placeholder_ratings_leave_every_big_m(options: DistFlowOptions) -> None:
    base = feederopt.load("case33bw")
    unrated = to_per_unit(_rated(base, None, None))
    for i_ka, s_mva in ((PLACEHOLDER_KA, None), (None, PLACEHOLDER_MVA),
                        (PLACEHOLDER_KA, PLACEHOLDER_MVA)):
        pu = to_per_unit(_rated(base, i_ka, s_mva))
        assert np.isfinite(pu.i_max).all() or np.isfinite(pu.s_max).all()
        got, ref = big_m(pu, options), big_m(unrated, options)
        for name in ("p", "q", "l", "v_up", "v_dn"):
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
        rated, thermal = effective_ratings(pu)
        assert len(rated) == 0 and len(thermal) == 0
    p_load_pu = 3.715  # MW on the 1 MVA base (Baran & Wu 1989)
    assert float(big_m(unrated, options).p.max()) <= 1.5 * p_load_pu + 1e-9


def test_pandapower_placeholder_rating_solve_published_optimum() -> None:
    pp_net = pn.case33bw()
    assert (pp_net.line.max_i_ka == PLACEHOLDER_KA).all()  # the placeholder, as shipped
    net = feederopt.load(pp_net)
    r = feederopt.solve(net, method="benders")
    assert r.losses_kw == pytest.approx(139.55, abs=0.01)
    opened = {b["id"] if isinstance(b, dict) else b for b in r.open_branches}
    assert opened == {"line:6", "line:8", "line:13", "line:31", "line:36"}
    # pandapower on the returned topology: nothing flows through an open line
    pp_net.line["in_service"] = [f"line:{k}" not in opened for k in pp_net.line.index]
    pp.runpp(pp_net)
    assert pp_net.res_line.loc[~pp_net.line.in_service, "i_ka"].abs().max() < 1e-9
    assert float(pp_net.res_line.pl_mw.sum()) * 1e3 == pytest.approx(139.55, abs=0.01)
