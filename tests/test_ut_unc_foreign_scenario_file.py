"""A scenario file made for another network: the problem says how many ids are unknown and
what the network's ids look like, and its hints stay short (user test ut_unc, finding 9).

Giving SimBench 1-MV-rural's scenario file (elements ``load:0`` ... and buses ``2`` ...) to
case33bw listed the first ten unknown ids, bus ids of the MV grid, without their number or the
form of case33bw's ids; case33bw's file given to a pandapower net listed the loads at every one
of its 32 buses and 32 "did you mean" ids in one hint. The ids here are written by hand.
"""

from __future__ import annotations

import pandapower as pp
import pandapower.networks as pn
import polars as pl
import pytest

import feederopt
from feederopt.errors import InputError
from feederopt.io.scenarios import resolve_scenarios


def _table(elements: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"scenario": "a", "kind": "load", "element": elements,
                         "p_mw": 0.1, "q_mvar": 0.05, "weight": 1.0})


def test_unknown_ids_are_counted_and_the_networks_ids_shown() -> None:
    elements = [f"load:{i}" for i in range(15)]  # pandapower ids; case33bw's loads are 2..33
    with pytest.raises(InputError) as err:
        resolve_scenarios(feederopt.load("case33bw"), _table(elements))
    (p,) = err.value.problems
    assert p.field == "element" and "15 unknown element id(s)" in p.message
    assert len(p.ids) == 15
    assert "load ids are 2, 3, 4, ..." in p.hint and "bus ids 1, 2, 3, ..." in p.hint
    assert "another network" in p.hint


def test_load_rows_naming_many_buses_get_a_short_hint(tmp_path) -> None:
    net = pn.case33bw()  # pandapower: load k sits at bus k + 1, loads load:0 .. load:31
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    elements = [str(b) for b in range(1, 13)]  # 12 bus ids given as load rows
    with pytest.raises(InputError) as err:
        resolve_scenarios(feederopt.load(str(path)), _table(elements))
    (p,) = err.value.problems
    assert "bus id, not a load id" in p.message
    # the first five buses in id order (as text: 1, 10, 11, 12, 2), then the count
    assert "the loads at bus 1: load:0; bus 10: load:9; bus 11: load:10; bus 12: load:11; " \
           "bus 2: load:1; ... (7 more buses)" in p.hint
    # every one of the 12 is also a pandapower load index: five shown, seven counted
    assert "did you mean load:1, load:10, load:11, load:12, load:2, ... (7 more)?" in p.hint
