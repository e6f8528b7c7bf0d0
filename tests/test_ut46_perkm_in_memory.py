"""Per-km line impedances given in memory (user test ut46_recheck pyapi/perkm_mem.py):
``Network.from_tables`` with ``r_ohm_per_km``, ``x_ohm_per_km`` and ``length_km`` but no
``r_ohm`` raised polars' ``ColumnNotFoundError "r_ohm"``, while a table folder of the same
columns computed ``r_ohm = r_ohm_per_km * length_km``. Both now take the one path
(:func:`feederopt.network.per_km.from_per_km`).

Truth: case33bw's base-case losses, 202.68 kW (Baran and Wu 1989), from pandapower's AC power
flow on the network built from the per-km tables, and the folder reader's reading of the same
tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from feederopt.cases import load
from feederopt.errors import InputError, ProblemKind
from feederopt.io import read_folder
from feederopt.network import Network
from feederopt.validation.ac import ac_power_flow


def _per_km_branches(net: Network) -> pl.DataFrame:
    """case33bw's branches with r, x split into per-km values times lengths 0.5 .. 4.5 km."""
    br = net.branches
    length = pl.Series("length_km", [0.5 + (i % 9) * 0.5 for i in range(br.height)])
    return br.with_columns(
        length,
        (pl.col("r_ohm") / length).alias("r_ohm_per_km"),
        (pl.col("x_ohm") / length).alias("x_ohm_per_km"),
    ).drop(["r_ohm", "x_ohm"])


def test_from_tables_computes_per_km_as_the_folder_reader(tmp_path: Path) -> None:
    net = load("case33bw")
    branches = _per_km_branches(net)
    mem = Network.from_tables(buses=net.buses, branches=branches, loads=net.loads,
                              generators=net.generators, shunts=net.shunts, name="c33km")
    r = ac_power_flow(mem)
    assert r.converged
    assert r.losses_kw == pytest.approx(202.68, abs=0.3)
    assert any("r_ohm of 37 row(s)" in w for w in mem.meta["warnings"])
    assert "r_ohm_per_km" not in mem.branches.columns

    folder = tmp_path / "c33km"
    folder.mkdir()
    net.buses.write_csv(folder / "buses.csv")
    branches.write_csv(folder / "branches.csv")
    net.loads.write_csv(folder / "loads.csv")
    from_folder = read_folder(folder)
    for col in ("r_ohm", "x_ohm"):
        assert mem.branches[col].to_list() == pytest.approx(from_folder.branches[col].to_list(),
                                                            rel=1e-12)
        assert mem.branches[col].to_list() == pytest.approx(net.branches[col].to_list(),
                                                            rel=1e-12)


def test_replace_computes_per_km_too() -> None:
    net = load("case33bw")
    copy = net.replace(branches=_per_km_branches(net))
    assert ac_power_flow(copy).losses_kw == pytest.approx(202.68, abs=0.3)


def test_per_km_without_length_is_a_typed_problem() -> None:
    net = load("case33bw")
    branches = _per_km_branches(net).drop("length_km")
    with pytest.raises(InputError) as err:
        Network.from_tables(buses=net.buses, branches=branches, loads=net.loads)
    [problem] = err.value.problems
    assert problem.kind == ProblemKind.INVALID_VALUE
    assert "without a length_km column" in problem.message
