"""Writing a result: its JSON file, or a folder of JSON, Parquet tables and a PNG of the grid.

The folder is written as a whole (:func:`feederopt.io.writing.atomic_folder`): filled under a
temporary name and renamed when complete, so a crash never leaves half a result. An existing
folder is replaced only with ``force``.
"""

from __future__ import annotations

from pathlib import Path

from feederopt.io.writing import atomic_folder, write_text
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
        result.buses.write_parquet(tmp / "buses.parquet")
        result.branches.write_parquet(tmp / "branches.parquet")
        result.switches.write_parquet(tmp / "switches.parquet")
        if result.generators.height:
            result.generators.write_parquet(tmp / "generators.parquet")
        if result.log:
            pl.DataFrame([r.to_dict() for r in result.log]).write_parquet(
                tmp / "iterations.parquet")
        # no topology, no switch states to draw (the report says so instead)
        if result.has_topology and (result.ac_check is not None
                                    or result.status.value != "error"):
            plot_grid(result, tmp / "grid.png")
    return Path(path)
