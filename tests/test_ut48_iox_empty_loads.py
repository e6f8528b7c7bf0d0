"""An empty loads table (user test ut48_iobad #5): a header-only loads.csv or a 0-row
Parquet read "problems: none" without the note a missing loads file gets, and solve gave
status feasible, "gap 0.8627 %" (objective 8.6e-12 kW over a bound of 0) after 14 iterations,
opening branches 6, 18, 25, 34, 35 instead of keeping the base case's ties.

Truth, by hand: without load (and with case33bw's lines, which have no charging) every radial
topology has zero losses, so the base case is an optimum, proven with a zero gap, and the
user's own normally-open branches (branches.csv) are the answer a tie keeps."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import feederopt
from feederopt.io import write_folder


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_empty_loads_table_is_noted_and_solved_to_the_base_case(tmp_path: Path,
                                                                 fmt: str) -> None:
    folder = tmp_path / "feeder"
    write_folder(feederopt.load("case33bw"), folder, fmt=fmt)
    if fmt == "csv":
        header = (folder / "loads.csv").read_text().splitlines()[0]
        (folder / "loads.csv").write_text(header + "\n")
        branches = pl.read_csv(folder / "branches.csv", infer_schema_length=0)
    else:
        pl.read_parquet(folder / "loads.parquet").clear().write_parquet(folder / "loads.parquet")
        branches = pl.read_parquet(folder / "branches.parquet").cast(pl.String)
    ties = set(branches.filter(pl.col("normally_open").str.to_lowercase()
                               .is_in(["true", "1"]))["id"].to_list())
    assert len(ties) == 5  # case33bw's five tie lines

    net = feederopt.load(folder)
    assert net.loads.height == 0
    assert any(f"loads.{fmt}" in w and "no row" in w and "no load" in w
               for w in net.meta["warnings"])

    result = feederopt.solve(net)
    assert result.status == "optimal"
    assert result.gap == 0.0
    assert {str(b["id"]) for b in result.open_branches} == ties
