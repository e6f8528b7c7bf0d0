"""A value that is not a number in a CSV folder: the hint says what to write, and offers an
empty cell only where the column may be empty (user test ut37 gendef #2).

loads.csv with ``D2,B2,"0,6","0,3"`` was refused with the hint "give a number (a dot as
decimal separator) or leave the cell empty"; an empty ``p_mw`` (a required column) is then
refused in turn ("1 row(s) have no value for 'p_mw'"), so the hint sent the user from one
refusal to the next. Truth: the schema says which columns are required
(``feederopt.network.schemas.Load``: ``p_mw`` and ``q_mvar`` have no default) and that an
empty rating is no rating; and reading the folder with the empty cell is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import feederopt
from feederopt.errors import InputError


def folder(tmp_path: Path, load_row: str, rating: str = "0.3") -> Path:
    out = tmp_path / "net"
    out.mkdir()
    (out / "buses.csv").write_text("id,vn_kv,is_source\nS,12.66,true\nB2,12.66,false\n",
                                   encoding="utf-8")
    (out / "branches.csv").write_text("id,from_bus,to_bus,r_ohm,x_ohm,i_max_ka\n"
                                      f"L1,S,B2,0.3,0.4,{rating}\n", encoding="utf-8")
    (out / "loads.csv").write_text(f"id,bus,p_mw,q_mvar\n{load_row}\n", encoding="utf-8")
    return out


def problems(path: Path) -> dict[str, str]:
    with pytest.raises(InputError) as err:
        feederopt.load(path)
    return {f"{p.component}.{p.field}": p.hint for p in err.value.problems}


def test_a_required_column_is_not_offered_an_empty_cell(tmp_path: Path) -> None:
    hints = problems(folder(tmp_path, 'D2,B2,"0,6","0,3"'))
    assert set(hints) == {"loads.p_mw", "loads.q_mvar"}
    for col, value in (("p_mw", "0.6"), ("q_mvar", "0.3")):
        hint = hints[f"loads.{col}"]
        assert "empty" not in hint and f"{value}, not '{value.replace('.', ',')}'" in hint
    # what the old hint offered is refused: an empty p_mw
    (tmp_path / "empty").mkdir()
    assert "loads.p_mw" in problems(folder(tmp_path / "empty", "D2,B2,,0.3"))


def test_an_optional_column_may_still_be_left_empty(tmp_path: Path) -> None:
    hints = problems(folder(tmp_path, "D2,B2,0.6,0.3", rating='"0,3"'))
    assert "0.3, not '0,3'" in hints["branches.i_max_ka"]
    assert "leave the cell empty" in hints["branches.i_max_ka"]
    (tmp_path / "empty").mkdir()
    net = feederopt.load(folder(tmp_path / "empty", "D2,B2,0.6,0.3", rating=""))
    assert net.branches["i_max_ka"].to_list() == [None]


def test_tables_in_memory_say_it_alike(tmp_path: Path) -> None:
    """A table given in memory (Network.from_tables): null is offered for a rating, not for
    a load's p_mw."""
    import polars as pl

    src = folder(tmp_path, "D2,B2,0.6,0.3", rating="0.3")
    tables = {f.stem: pl.read_csv(f) for f in src.glob("*.csv")}
    tables["loads"] = tables["loads"].with_columns(pl.lit("0,6").alias("p_mw"))
    tables["branches"] = tables["branches"].with_columns(pl.lit("0,3").alias("i_max_ka"))
    with pytest.raises(InputError) as err:
        feederopt.Network.from_tables(**tables)
    hints = {f"{p.component}.{p.field}": p.hint for p in err.value.problems}
    assert "null" not in hints["loads.p_mw"]
    assert "null where it is not given" in hints["branches.i_max_ka"]
