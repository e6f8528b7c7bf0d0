"""A generator's voltage set-point far from 1 p.u. is a unit mistake, refused as a source's is
(``generators [g1].v_set_pu``); and an AC check that does not converge verifies nothing, so
the result says so. User test ut36_api #2: a generator's ``v_set_pu`` of 12.66 (its bus's kV
typed as p.u.) was accepted, the AC check ran into NaN, and the result still read
``optimal``, ``within_limits`` True, ``ac_verdict`` None."""

from __future__ import annotations

import functools
import math
import warnings

import pandapower as pp
import polars as pl
import pytest

import feederopt
import feederopt.validation.ac as ac_module
from feederopt.errors import ProblemKind
from netbuild import tiny, tiny_pandapower_net


def _gen(v_set_pu: float | None) -> pl.DataFrame:
    # a voltage-controlling generator at bus c: q free, p fixed at 0.3 MW
    return pl.DataFrame({"id": ["g1"], "bus": ["c"], "p_mw": [0.3], "q_mvar": [0.0],
                         "p_min_mw": [0.3], "p_max_mw": [0.3], "q_min_mvar": [-math.inf],
                         "q_max_mvar": [math.inf], "v_set_pu": [v_set_pu]},
                        schema_overrides={"v_set_pu": pl.Float64})


@pytest.mark.parametrize("value", [12.66, 2.0, 1.5, 0.5, 0.3, 0.0, -1.0, math.inf])
def test_an_implausible_generator_set_point_is_an_error_naming_it(value: float) -> None:
    with pytest.raises(feederopt.InputError) as err:
        feederopt.solve(tiny(generators=_gen(value)), ac_check=False)
    (p,) = [p for p in err.value.problems if p.field == "v_set_pu"]
    assert p.kind is ProblemKind.INVALID_VALUE and p.is_error
    assert "generators [g1].v_set_pu" in str(p)
    if value == 12.66:  # the bus's vn_kv (12.66 kV) typed as p.u.
        assert "p.u., not kV: 12.66 looks like the bus's vn_kv" in p.hint


@pytest.mark.parametrize("value", [0.95, 1.0, 1.05, None, math.nan])
def test_a_plausible_or_absent_generator_set_point_passes(value: float | None) -> None:
    assert [p for p in tiny(generators=_gen(value)).validate() if p.field == "v_set_pu"] == []


def test_an_ac_check_that_does_not_converge_is_no_verdict_of_within_limits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Independent truth: pandapower's Newton-Raphson does not converge on this feeder in one
    # iteration (it needs several from a flat start).
    net = tiny_pandapower_net({"tie1"})
    with pytest.raises(pp.LoadflowNotConverged):
        pp.runpp(net, max_iteration=1, tolerance_mva=1e-8, numba=False)
    # The AC check held to that one iteration: it does not converge either.
    monkeypatch.setattr(ac_module, "ac_power_flow",
                        functools.partial(ac_module.ac_power_flow, max_iteration=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = feederopt.solve(tiny(), time_limit=60)
    assert r.ac_check is not None and not r.ac_check.converged
    assert r.status.value == "optimal"          # the model's status
    assert r.within_limits is False             # but nothing verified the limits
    assert r.ac_verdict is not None and "not verified" in r.ac_verdict
    assert r.to_dict()["ac_verdict"] == r.ac_verdict
