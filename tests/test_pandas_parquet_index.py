"""Parquet tables written by pandas with their index (user test ut38_sched): pandas'
``to_parquet`` stores a filtered or concatenated frame's index as a hidden
``__index_level_0__`` column, which pandas' own ``read_parquet`` drops again. feederopt's
readers refused it as an unknown column the user never wrote. The truth is pandas' own reading
of the same file."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from feederopt.cases import load
from feederopt.io import write_folder
from feederopt.io.scenarios import read_scenario_table
from feederopt.io.timeseries import read_table

sys.path.insert(0, str(Path(__file__).parent))
from netbuild import tiny


def _pandas_filtered(df: pd.DataFrame, path: Path) -> list[str]:
    """Write ``df`` with its first two rows swapped (an index 1, 0, 2, ... that is no range,
    as after a sort or a filter) as pandas does, and return the columns pandas reads back."""
    df.iloc[[1, 0, *range(2, len(df))]].to_parquet(path)
    assert "__index_level_0__" in pl.read_parquet(path).columns  # what the file holds
    return pd.read_parquet(path).columns.tolist()


def test_profile_table_reads_as_pandas_reads_it(tmp_path: Path) -> None:
    frame = pd.DataFrame({"time": [0, 0, 1, 1], "element": ["load:0", "price", "load:0", "price"],
                          "value": [1.0, 30.0, 0.9, 32.0]})
    path = tmp_path / "profiles.parquet"
    expected = _pandas_filtered(frame, path)
    assert read_table(path, "profile table").columns == expected


def test_scenario_table_reads_as_pandas_reads_it(tmp_path: Path) -> None:
    frame = pd.DataFrame({"scenario": ["s0", "s1", "s2"], "element": ["La", "La", "La"],
                          "p_mw": [0.2, 0.3, 0.4], "q_mvar": [0.1, 0.1, 0.1]})
    path = tmp_path / "scenarios.parquet"
    expected = _pandas_filtered(frame, path)
    table = read_scenario_table(path)
    assert [c for c in table.columns if not c.endswith(("__num", "__raw"))] == expected


def test_table_folder_with_a_pandas_index_loads(tmp_path: Path) -> None:
    folder = tmp_path / "net"
    write_folder(tiny(), folder, fmt="parquet")
    loads = pd.read_parquet(folder / "loads.parquet")
    extra = pd.DataFrame({"id": ["Lx"], "bus": ["a"], "p_mw": [0.0], "q_mvar": [0.0]})
    both = pd.concat([extra, loads])  # index 0, 0, 1, 2, 3: pandas stores it
    both.iloc[1:].to_parquet(folder / "loads.parquet")
    assert "__index_level_0__" in pl.read_parquet(folder / "loads.parquet").columns
    net = load(folder)
    assert "__index_level_0__" not in net.loads.columns  # carried as the user's column before
    assert net.loads["id"].to_list() == pd.read_parquet(folder / "loads.parquet")["id"].tolist()
    assert net.loads["p_mw"].to_list() == pytest.approx(loads["p_mw"].tolist())


def test_a_named_index_is_the_users_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"time": [0, 1], "element": ["load:0", "load:0"], "value": [1.0, 0.9]})
    path = tmp_path / "profiles.parquet"
    frame.set_index("time").to_parquet(path)
    assert sorted(read_table(path, "profile table").columns) == ["element", "time", "value"]
