"""Writing a result: its JSON file, or a folder of JSON, Parquet tables and a PNG of the grid.

The folder is written as a whole (:func:`feederopt.io.writing.atomic_folder`): filled under a
temporary name and renamed when complete, so a crash never leaves half a result. An existing
folder is replaced only with ``force``.
"""

from __future__ import annotations

from pathlib import Path

from feederopt.io.writing import atomic_folder, write_table, write_text
from feederopt.results.result import Result


def write_result_json(result: Result, path: str | Path, *, force: bool = False) -> Path:
    """``result.to_json()`` to ``path``, atomically; an existing file is replaced only with
    ``force``."""
    return write_text(path, result.to_json() + "\n", force=force)


def write_result_dir(result: Result, path: str | Path, *, force: bool = False) -> Path:
    """``result.json``, ``buses.parquet``, ``branches.parquet``, ``switches.parquet``,
    ``iterations.parquet``, ``generators.parquet`` (when the network has generators) and
    ``grid.png`` in a new folder."""
    import polars as pl

    from feederopt.report.plot import plot_grid

    with atomic_folder(path, force=force) as tmp:
        write_result_json(result, tmp / "result.json")
        # a quantity that does not exist (no rating, no AC run) is null, never NaN
        write_table(result.buses, tmp / "buses.parquet")
        write_table(result.branches, tmp / "branches.parquet")
        write_table(result.switches, tmp / "switches.parquet")
        if result.generators.height:
            write_table(result.generators, tmp / "generators.parquet")
        if result.log:
            write_table(pl.DataFrame([r.to_dict() for r in result.log]),
                        tmp / "iterations.parquet")
        # no topology, no switch states to draw (the report says so instead)
        if result.has_topology and (result.ac_check is not None
                                    or result.status.value != "error"):
            plot_grid(result, tmp / "grid.png")
    return Path(path)
