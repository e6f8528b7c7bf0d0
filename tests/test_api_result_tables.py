"""The result's tables: the generators' dispatch (user test ut_api #3) and one id type
(#8).

* A generator with a power range is dispatched by the solve, and the AC check runs at that
  dispatch; the ``generators`` table (and the JSON's ``generators``, ``generators.parquet``)
  gives it, so that the AC check's losses can be reproduced: pandapower's Newton-Raphson on a
  net built here by hand, at the result's topology and generator set-points, gives them.
* Ids are strings everywhere in one result, also for a format that numbers its buses
  (MATPOWER's case33bw): open branches, the base case, the tables join on them.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import feederopt
from netbuild import tiny, tiny_pandapower_losses_kw

GEN = pl.DataFrame({"id": ["G1"], "bus": ["c"], "p_mw": [0.0], "q_mvar": [0.0],
                    "p_min_mw": [0.0], "p_max_mw": [0.3], "q_min_mvar": [-0.1],
                    "q_max_mvar": [0.1]})


def _pandapower_losses_kw(open_ids: set[str], p_mw: float, q_mvar: float) -> float:
    return tiny_pandapower_losses_kw(open_ids, ("c", p_mw, q_mvar))


def test_the_generators_dispatch_is_reported_and_reproduces_the_ac_check(
        tmp_path: Path) -> None:
    r = feederopt.solve(tiny(generators=GEN), time_limit=30)
    (row,) = r.generators.iter_rows(named=True)
    assert (row["id"], row["bus"]) == ("G1", "c")
    assert -1e-6 <= row["p_mw"] <= 0.3 + 1e-6 and -0.1 - 1e-6 <= row["q_mvar"] <= 0.1 + 1e-6
    opened = {b["id"] for b in r.open_branches}
    assert r.ac_check is not None
    assert r.ac_check.losses_kw == pytest.approx(
        _pandapower_losses_kw(opened, row["p_mw"], row["q_mvar"]), abs=1e-4)
    # the data's set-point (0, 0) gives other losses: the dispatch is information
    assert _pandapower_losses_kw(opened, 0.0, 0.0) > 1.5 * r.ac_check.losses_kw
    # JSON and Parquet keep it
    assert json.loads(r.to_json())["generators"] == [row]
    out = feederopt.save(r, tmp_path / "res", report=False)
    assert pl.read_parquet(out / "generators.parquet").equals(r.generators)


def test_ids_have_one_type_in_a_result_of_an_integer_numbered_case() -> None:
    r = feederopt.solve("case33bw", time_limit=30, ac_check=True)
    doc = json.loads(r.to_json())
    ids = [b[k] for b in [*doc["open_branches"], *doc["base"]["open_branches"]]
           for k in ("id", "from_bus", "to_bus")] + [doc["base"]["min_voltage_bus"]]
    assert all(isinstance(i, str) for i in ids)
    joined = pl.DataFrame(r.open_branches).join(r.buses, left_on="from_bus", right_on="id")
    assert joined.height == len(r.open_branches) == 5
