"""A scenario that leaves out a load which the other scenarios list (user test ut41_unc #2).

The load keeps its nominal demand in that scenario (the documented meaning of a missing row);
on main this happened silently. Now the scenario set, the solve's notes and a
:class:`~feederopt.errors.FeederoptWarning` (the console's ``note:``) name the scenario and
the load.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from feederopt.errors import FeederoptWarning
from feederopt.io.scenarios import load_scenarios
from feederopt.network import Network
from feederopt.uncertainty import solve_scenarios


def _feeder() -> Network:
    """A source, two load buses in a line and a tie: d1 0.30 MW at b1, d2 0.20 MW at b2."""
    buses = pl.DataFrame({"id": ["b0", "b1", "b2"], "vn_kv": [12.66] * 3,
                          "is_source": [True, False, False]})
    branches = pl.DataFrame({"id": ["l1", "l2", "t1"], "from_bus": ["b0", "b1", "b0"],
                             "to_bus": ["b1", "b2", "b2"], "r_ohm": [0.5, 0.5, 1.0],
                             "x_ohm": [0.4, 0.4, 0.8], "switchable": [True, True, True],
                             "normally_open": [False, False, True]})
    loads = pl.DataFrame({"id": ["d1", "d2"], "bus": ["b1", "b2"], "p_mw": [0.3, 0.2],
                          "q_mvar": [0.1, 0.05]})
    return Network.from_tables(buses=buses, branches=branches, loads=loads,
                               name="two_loads").check()


def _table(leave_out: bool) -> pl.DataFrame:
    rows = [("s0", "d1", 0.6, 0.2), ("s0", "d2", 0.4, 0.1), ("s1", "d1", 0.15, 0.05)]
    if not leave_out:
        rows.append(("s1", "d2", 0.1, 0.02))
    return pl.DataFrame({"scenario": [r[0] for r in rows], "kind": ["load"] * len(rows),
                         "element": [r[1] for r in rows], "p_mw": [r[2] for r in rows],
                         "q_mvar": [r[3] for r in rows], "weight": [0.5] * len(rows)})


def test_a_load_left_out_of_one_scenario_is_named_and_keeps_its_nominal_demand() -> None:
    net = _feeder()
    sset = load_scenarios(net, _table(leave_out=True))
    assert sset.missing_loads == (("s1", ("d2",)),)
    note = sset.missing_loads_note
    assert note is not None and "s1" in note and "d2" in note and "nominal" in note
    # by hand: s1 at b2 is d2's nominal 0.20 MW (its row is missing), at b1 its row's 0.15
    b1, b2 = sset.bus_ids.index("b1"), sset.bus_ids.index("b2")
    assert sset.p_mw[1, b1] == pytest.approx(0.15) and sset.p_mw[1, b2] == pytest.approx(0.2)
    with pytest.warns(FeederoptWarning, match="s1 has no row for d2"):
        res = solve_scenarios(net, _table(leave_out=True), ac_check=False, time_limit=30)
    assert any("s1 has no row for d2" in n for n in res.notes)
    assert any("s1 has no row for d2" in n for n in res.to_dict()["notes"])


def test_scenarios_that_list_the_same_loads_get_no_note() -> None:
    net = _feeder()
    sset = load_scenarios(net, _table(leave_out=False))
    assert sset.missing_loads == () and sset.missing_loads_note is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeederoptWarning)
        res = solve_scenarios(net, _table(leave_out=False), ac_check=False, time_limit=30)
    assert not any("has no row for" in n for n in res.notes)
    assert np.isfinite(res.objective)


def _ieee13_table(leave_out: bool) -> pl.DataFrame:
    """The user test's table (ut41_recheck_b #B, repro_3ph_missing_load.sh): every load of
    ieee13mod in s0 at 110 % and in s1 at 90 % of its total, s1 without the first load
    (611) when ``leave_out``."""
    from feederopt.cases import load_three_phase

    loads = load_three_phase("ieee13mod").loads
    per = loads.group_by("id", maintain_order=True).agg(pl.col("p_mw").sum(),
                                                        pl.col("q_mvar").sum()).sort("id")
    first = per["id"][0]
    rows = []
    for name, factor in (("s0", 1.1), ("s1", 0.9)):
        for lid, p, q in per.iter_rows():
            if leave_out and name == "s1" and lid == first:
                continue
            rows.append((name, lid, p * factor, q * factor))
    return pl.DataFrame({"scenario": [r[0] for r in rows], "kind": ["load"] * len(rows),
                         "element": [r[1] for r in rows], "p_mw": [r[2] for r in rows],
                         "q_mvar": [r[3] for r in rows], "weight": [0.5] * len(rows)})


def test_a_three_phase_scenario_that_leaves_out_a_load_is_named() -> None:
    """The same rule for a ``.dss`` feeder's scenarios (before, ut41_recheck_b #B: no note,
    the load silently at its nominal demand in s1). The table is built here with load 611
    left out of s1, so the note must name s1 and 611 (and no other scenario or load)."""
    from feederopt import solve_three_phase

    table = _ieee13_table(leave_out=True)
    assert "611" in table.filter(pl.col("scenario") == "s0")["element"].to_list()
    assert "611" not in table.filter(pl.col("scenario") == "s1")["element"].to_list()
    res = solve_three_phase("ieee13mod", scenarios=table, ac_check=False,
                            voltage_feedback=False, time_limit_s=30)
    said = [n for n in res.notes if "has no row for" in n]
    assert len(said) == 1 and "s1 has no row for 611" in said[0] and "s0 has" not in said[0]
    assert "nominal" in said[0]
    assert any("s1 has no row for 611" in n for n in res.to_dict()["notes"])


def test_three_phase_scenarios_that_list_the_same_loads_get_no_note() -> None:
    from feederopt import solve_three_phase

    res = solve_three_phase("ieee13mod", scenarios=_ieee13_table(leave_out=False),
                            ac_check=False, voltage_feedback=False, time_limit_s=30)
    assert not any("has no row for" in n for n in res.notes)
