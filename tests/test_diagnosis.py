"""The diagnosis of a grid that no topology supplies within its limits lists only the limits
that the least-violating point truly breaks, with the point's own voltages."""

from __future__ import annotations

import numpy as np

import feederopt
from feederopt.network import Network, to_per_unit
from feederopt.problems.reconfiguration import violations_at
from test_load_plausibility import feeder

TOL = 1e-5  # p.u.: a voltage closer to its limit than this is no violation


def overloaded() -> Network:
    """A 12.66 kV feeder whose loads were entered in kW as MW (500, 600, 400 'MW')."""
    return feeder(1000.0)


def test_slack_on_a_limit_that_holds_is_no_violation() -> None:
    pu = to_per_unit(overloaded())
    vm = np.array([1.0, 0.7, 0.5, 0.5, 1.0])
    k = int((~pu.is_source).sum())
    # an interior-point point: a little slack everywhere, one low voltage per bus but bus 5
    point = {"v": vm ** 2, "slack_v_up": np.full(k, 1e-4),
             "slack_v_dn": np.array([0.3, 0.7, 0.7, 1e-4])}
    out = violations_at(pu, point)
    assert {(pu.bus_ids[d.index], d.limit) for d in out} == {("2", "v_min"), ("3", "v_min"),
                                                            ("4", "v_min")}
    for d in out:
        assert d.value == vm[d.index]
        assert d.amount == pu.v_min[d.index] - vm[d.index]


def test_solve_diagnosis_names_only_broken_limits_with_the_point_voltages() -> None:
    res = feederopt.solve(overloaded(), time_limit=20)
    assert not res.within_limits and res.diagnosis
    volts = {str(b): float(v) for b, v in zip(res.buses["id"].to_list(),
                                              res.buses["vm_pu"].to_list(), strict=True)}
    seen = set()
    for d in res.diagnosis:
        if d["limit"] not in ("v_min", "v_max"):
            assert d["amount"] > 0
            continue
        seen.add(d["id"])
        # the value is the bus's voltage in the result, beyond its limit by the amount
        assert abs(d["value"] - volts[d["id"]]) < 1e-9
        beyond = d["rating"] - d["value"] if d["limit"] == "v_min" else d["value"] - d["rating"]
        assert beyond > TOL and abs(beyond - d["amount"]) < 1e-9
    assert seen == {b for b, v in volts.items() if v < 0.9 - TOL}
