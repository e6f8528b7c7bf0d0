"""A scenario file without kind and der columns on case33bw, whose load ids are its bus ids
(MATPOWER: load 18 at bus 18), names every element ambiguously (user test ut50_scen #6). The
problem listed "scenarios [10, 11, 12, ... 19 ...].kind": the ids sorted as text (10-19
before 2) and not said to be element ids. Truth: the user's file's elements, 2..33, in their
numeric order."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import feederopt
from feederopt.io.scenarios import load_scenarios


def test_ambiguous_elements_are_named_in_natural_order(tmp_path: Path) -> None:
    net = feederopt.load("case33bw")
    loads = net.loads
    path = tmp_path / "nokind.csv"
    pl.DataFrame({"scenario": ["s0"] * loads.height,
                  "element": [str(x) for x in loads["id"].to_list()],
                  "p_mw": loads["p_mw"], "q_mvar": loads["q_mvar"],
                  "weight": [1.0] * loads.height}).write_csv(path)
    elements = pl.read_csv(path)["element"].to_list()
    with pytest.raises(feederopt.InputError) as exc:
        load_scenarios(net, path)
    (p,) = [p for p in exc.value.problems if p.field == "kind"]
    assert list(p.ids) == [str(e) for e in sorted(set(elements))]  # ints: numeric order
    assert list(p.ids)[:3] == ["2", "3", "4"]
    assert f"{len(set(elements))} elements" in p.message
    assert str(p).startswith("bad_scenario: scenarios [2, 3, 4,")
