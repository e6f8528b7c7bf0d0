"""Every column of feederopt's own tables carries its unit in its name (README: "the unit in
every column name"); a user test found branches.switch_cost without one. It is now
switch_cost_kw; a folder written before, with switch_cost, is still read (with a note)."""

from __future__ import annotations

import polars as pl

import feederopt
from feederopt.io import write_folder
from feederopt.network.schemas import TABLES
from netbuild import tiny, tiny_tables


def test_cost_columns_name_their_unit() -> None:
    for table, model in TABLES.items():
        for col in model.model_fields:
            if "cost" in col:
                assert col.endswith(("_kw", "_per_mwh", "_per_h", "_per_kwh", "_per_mvarh")), \
                    (table, col)


def test_a_folder_with_the_earlier_name_is_read(tmp_path) -> None:
    net = tiny(branches=tiny_tables()["branches"].with_columns(
        pl.Series("switch_cost_kw", [0.0, 3.0, 3.0, 3.0, 3.0])))
    folder = write_folder(net, tmp_path / "f", fmt="csv")
    b = pl.read_csv(folder / "branches.csv").rename({"switch_cost_kw": "switch_cost"})
    b.write_csv(folder / "branches.csv")
    back = feederopt.load(folder)
    assert back.branches["switch_cost_kw"].to_list() == [0.0, 3.0, 3.0, 3.0, 3.0]
    assert any("switch_cost read as switch_cost_kw" in w for w in back.meta["warnings"])
    assert not [p for p in back.validate() if "switch_cost" in str(p)]
