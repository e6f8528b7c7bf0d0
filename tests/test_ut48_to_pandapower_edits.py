"""User test ut48_pyapi #3: ``result.to_pandapower(pp_net)`` of a net edited after
:func:`feederopt.load` read it. The truth is pandapower's own power flow (``pp.runpp``) of the
returned net against the result's AC losses: loads changed in the net are written back (the
result's loads, at ``scaling`` 1), so ``runpp`` is the result's AC check; a change that the
writing leaves in the copy (a line's resistance) is a :class:`FeederoptWarning` naming it."""

from __future__ import annotations

import warnings

import pandapower as pp
import pandapower.networks as pn
import pytest

import feederopt
from feederopt.errors import FeederoptWarning


@pytest.fixture(scope="module")
def solved() -> tuple[feederopt.Result, float]:
    pp_net = pn.case33bw()
    result = feederopt.solve(feederopt.load(pp_net), time_limit=60)
    return result, float(pp_net.load["p_mw"].sum())


def _written(result: feederopt.Result, pp_net: object) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = result.to_pandapower(pp_net)
    return out, [str(w.message) for w in caught if issubclass(w.category, FeederoptWarning)]


def test_loads_scaled_in_the_net_after_load_are_written_back(solved) -> None:
    result, load_mw = solved
    pp_net = pn.case33bw()
    pp_net.load["p_mw"] *= 1.5
    pp_net.load["scaling"] = 0.7
    out, warned = _written(result, pp_net)
    assert warned == []
    assert out.load["p_mw"].sum() == pytest.approx(load_mw)  # the result's loads
    assert (out.load["scaling"] == 1.0).all()
    pp.runpp(out)
    assert 1000 * out.res_line.pl_mw.sum() == pytest.approx(result.ac_check.losses_kw, rel=1e-6)
    assert pp_net.load["p_mw"].sum() == pytest.approx(1.5 * load_mw)  # the user's net unchanged


def test_a_line_changed_in_the_net_after_load_is_warned_of(solved) -> None:
    result, _ = solved
    pp_net = pn.case33bw()
    pp_net.load["p_mw"] *= 1.5
    pp_net.line.loc[3, "r_ohm_per_km"] *= 3
    out, warned = _written(result, pp_net)
    assert len(warned) == 1 and "line.r_ohm_per_km" in warned[0]
    assert "load." not in warned[0]  # the loads are written back, not left
    pp.runpp(out)  # the warning is true: the copy's AC losses are not the result's
    assert abs(1000 * out.res_line.pl_mw.sum() - result.ac_check.losses_kw) > 1.0


def test_the_unedited_net_gets_no_warning(solved) -> None:
    result, _ = solved
    out, warned = _written(result, pn.case33bw())
    assert warned == []
    pp.runpp(out)
    assert 1000 * out.res_line.pl_mw.sum() == pytest.approx(result.ac_check.losses_kw, rel=1e-6)
