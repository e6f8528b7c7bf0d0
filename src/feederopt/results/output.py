"""Writing a result to a folder: JSON, Parquet tables and a PNG of the grid.

An existing folder is never overwritten unless ``force`` is given.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from feederopt.network.errors import InputError, Problem, ProblemKind
from feederopt.results.result import Result


def prepare_output_dir(path: str | Path, force: bool) -> Path:
    """Create ``path``; refuse an existing one unless ``force`` (then it is replaced)."""
    out = Path(path)
    if out.exists():
        if not force:
            raise InputError([Problem(
                ProblemKind.OUTPUT_EXISTS, "output", f"'{out}' exists already",
                ids=(str(out),), hint="choose another folder or pass --force to replace it",
            )])
        if out.is_dir():
            shutil.rmtree(out)
        else:
            out.unlink()
    out.mkdir(parents=True)
    return out


def write_result_dir(result: Result, path: str | Path, *, force: bool = False) -> Path:
    """``result.json``, ``buses.parquet``, ``branches.parquet``, ``switches.parquet``,
    ``iterations.parquet`` and ``grid.png`` in a new folder."""
    import polars as pl

    from feederopt.report.plot import plot_grid

    out = prepare_output_dir(path, force)
    result.write_json(out / "result.json")
    result.buses.write_parquet(out / "buses.parquet")
    result.branches.write_parquet(out / "branches.parquet")
    result.switches.write_parquet(out / "switches.parquet")
    if result.log:
        pl.DataFrame([r.to_dict() for r in result.log]).write_parquet(out / "iterations.parquet")
    if result.ac_check is not None or result.status.value != "error":
        plot_grid(result, out / "grid.png")
    return out
