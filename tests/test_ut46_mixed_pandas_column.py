"""A pandas ``object`` column mixing text and numbers (user test ut46_pyapi t20).

``Network.from_tables(loads=pd.DataFrame({..., "p_mw": ["1 MW", 0.8, 0.5]}))`` raised polars'
bare ``TypeError: 'float' object is not an instance of 'str'``, and ``net.replace(loads=...)``
too. It is the same typed problem as a column of text gives: the exact words the user sees.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from feederopt import Network
from feederopt.errors import InputError

BUSES = pd.DataFrame({"id": ["s", "a", "b", "c"], "vn_kv": [11.0] * 4,
                      "is_source": [True, False, False, False]})
BRANCHES = pd.DataFrame({"id": ["L1", "L2", "L3", "T"], "from_bus": ["s", "a", "s", "b"],
                         "to_bus": ["a", "b", "c", "c"], "r_ohm": [0.5, 0.4, 0.6, 0.3],
                         "x_ohm": [0.4, 0.3, 0.5, 0.2], "switchable": [True] * 4,
                         "normally_open": [False, False, False, True]})
MESSAGE = "1 value(s) of p_mw are not a number: '1 MW'"


def _loads(p: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"id": ["la", "lb", "lc"], "bus": ["a", "b", "c"], "p_mw": p,
                         "q_mvar": [0.3, 0.2, 0.1]})


@pytest.mark.parametrize("p", [["1 MW", 0.8, 0.5], ["1 MW", "0.8", "0.5"], ["1 MW", 1, None]])
def test_from_tables_names_the_value_that_is_no_number(p: list[object]) -> None:
    with pytest.raises(InputError) as exc:
        Network.from_tables(buses=BUSES, branches=BRANCHES, loads=_loads(p))
    (problem,) = exc.value.problems
    assert problem.component == "loads" and problem.ids == ("la",)
    assert problem.message == MESSAGE
    assert str(exc.value).splitlines()[1].strip().startswith(
        "- invalid_value: loads [la].p_mw: " + MESSAGE)


def test_replace_names_it_too() -> None:
    net = Network.from_tables(buses=BUSES, branches=BRANCHES, loads=_loads([1.0, 0.8, 0.5]))
    with pytest.raises(InputError) as exc:
        net.replace(loads=_loads(["1 MW", 0.8, 0.5]))
    assert [p.message for p in exc.value.problems] == [MESSAGE]


def test_a_mixed_column_of_numbers_and_numeric_text_is_read() -> None:
    net = Network.from_tables(buses=BUSES, branches=BRANCHES,
                              loads=_loads(["1.0", 0.8, math.nan]))
    p = net.loads["p_mw"].to_list()
    assert p[:2] == [1.0, 0.8]
