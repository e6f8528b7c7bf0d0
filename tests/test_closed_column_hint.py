"""User test ut50_pyapi #5: a ``closed`` column given to ``Network.from_tables`` (the switch
state of feederopt's own result tables and of pandapower's ``net.switch``) got the generic
"unknown column 'closed' is ignored; known columns: ..." warning, while every branch took
``normally_open`` false and the base case was silently meshed. Its warning now says "did you
mean normally_open (= not closed)?" and what leaving ``normally_open`` out does."""

from __future__ import annotations

import polars as pl

import feederopt
from feederopt.network import Network
from feederopt.network.validate import unknown_columns


def _closed_warning(net: Network) -> str:
    (warning,) = [p for p in net.validate() if p.field == "closed"]
    return str(warning)


def test_a_closed_column_is_told_to_be_normally_open_negated() -> None:
    net = feederopt.load("case33bw")
    # case33bw's five tie lines, 33-37 (Baran & Wu 1989), the truth of the hint
    assert net.branches.filter("normally_open")["id"].to_list() == ["33", "34", "35", "36", "37"]
    branches = net.branches.with_columns(closed=~pl.col("normally_open")).drop("normally_open")
    built = Network.from_tables(buses=net.buses, branches=branches, loads=net.loads)
    text = _closed_warning(built)
    assert "did you mean normally_open (= not closed)?" in text
    assert "known columns" not in text
    # what ignoring it means here: no branch is normally open, the five ties closed
    assert "meshed" in text and "5 row(s) (33, 34, 35, 36, 37)" in text
    assert built.base_case_loops() == 5


def test_closed_beside_normally_open_says_which_one_decides() -> None:
    agree = pl.DataFrame({"id": ["a", "b"], "normally_open": [False, True],
                          "closed": [True, False]})
    (p,) = unknown_columns("branches", agree.columns, agree)
    assert "did you mean normally_open (= not closed)?" in str(p)
    assert "agrees with it in every row" in str(p) and "meshed" not in str(p)
    clash = agree.with_columns(closed=pl.Series([True, True]))  # b: open and closed
    (p,) = unknown_columns("branches", clash.columns, clash)
    assert "1 row(s) (b)" in str(p) and "meshed" not in str(p)


def test_closed_without_normally_open_says_every_branch_is_closed() -> None:
    (p,) = unknown_columns("branches", ["id", "closed"])
    assert "did you mean normally_open (= not closed)?" in str(p) and "meshed" in str(p)
