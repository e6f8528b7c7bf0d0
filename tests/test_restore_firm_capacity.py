"""Restore names the cause of an infeasible restoration (user test ut38_mixed #1: a
non-sheddable 200 kW load alone in an island with a 150 kW backup DG was reported as "cannot
all be supplied within the voltage and line limits", though no line or voltage limit binds
on a one-bus island).

Truth by hand arithmetic: the island's demand (200 kW) against its DG's capacity (150 kW
refused, 250 kW enough); and a source line rated 100 kVA against a 500 kW load it must carry.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from feederopt import InputError
from feederopt.api_resilience import restore
from feederopt.errors import ProblemKind
from feederopt.network import Network

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import FIVE_BUS_BRANCHES, five_bus_net

BRANCHES = FIVE_BUS_BRANCHES


def _net(loads: pl.DataFrame, rating_a: float | None = None) -> Network:
    return five_bus_net(loads, rating_a, name="firm")


LOADS = pl.DataFrame({"id": ["L3", "L4"], "bus": ["3", "4"], "p_mw": [0.1, 0.2],
                      "q_mvar": [0.0, 0.0], "sheddable": [True, False]})


def test_an_island_too_small_for_its_firm_load_names_the_dg_capacity() -> None:
    # c and e broken: bus 4 is an island of one bus; its DG of 150 kW < L4's 200 kW
    assert 150.0 < 1000 * 0.2
    with pytest.raises(InputError) as err:
        restore(_net(LOADS), ["c", "e"], dg_sites=["4"], dg_p_max_kw=150.0, ac_check=False)
    [p] = err.value.problems
    assert (p.kind, p.component, p.field, p.ids) == (ProblemKind.BAD_LOAD, "loads",
                                                       "sheddable", ("L4",))
    assert "200.00 kW" in p.message and "150.00 kW" in p.message
    assert "voltage and line limits" not in p.message
    assert "--dg-size" in p.hint


def test_an_island_with_enough_dg_restores_its_firm_load() -> None:
    r = restore(_net(LOADS), ["c", "e"], dg_sites=["4"], dg_p_max_kw=250.0, ac_check=False)
    assert r.operation.shed_per_bus_kw.get("4", 0.0) == pytest.approx(0.0, abs=1e-6)


def test_a_binding_line_limit_keeps_the_limits_wording() -> None:
    # no DG: L3 (500 kW, firm) must come over line a, rated 100 kVA < 500 kW
    loads = pl.DataFrame({"id": ["L3"], "bus": ["3"], "p_mw": [0.5], "q_mvar": [0.0],
                          "sheddable": [False]})
    with pytest.raises(InputError) as err:
        restore(_net(loads, rating_a=0.1), ["c"], ac_check=False)
    [p] = err.value.problems
    assert p.ids == ("L3",)
    assert "voltage and line limits" in p.message and "exceeds" not in p.message
