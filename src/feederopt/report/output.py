"""Writing a result: its JSON file, or a folder of JSON, Parquet tables and a PNG of the grid.

The folder is written as a whole (:func:`feederopt.io.writing.atomic_folder`): filled under a
temporary name and renamed when complete, so a crash never leaves half a result. An existing
folder is replaced only with ``force``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from feederopt._version import ITERATION_LOG_RENAMED
from feederopt.io.writing import atomic_folder, write_table, write_text
from feederopt.results.dopf import DEVICES_FILE
from feederopt.results.result import Result
from feederopt.results.uncertain_tables import uncertain_tables

if TYPE_CHECKING:
    import polars as pl


#: ``iterations.parquet``'s bound columns as a release before the unit named them, and their
#: names now (:data:`~feederopt._version.ITERATION_LOG_RENAMED`, the same as ``result.json``'s
#: ``iteration_log``): the bounds are the objective's, in kW-equivalent (losses plus the
#: switching cost, and priced generation, in kW), and every other table names its unit
#: (``loss_kw``). :func:`read_iterations` renames old files' columns on read.
ITERATION_COLUMNS = ITERATION_LOG_RENAMED


def iterations_table(result: Result) -> pl.DataFrame:
    """``iterations.parquet``: one row per iteration record, the bounds with their unit
    (:meth:`~feederopt.solvers.status.IterationRecord.to_row`, as in ``result.json``)."""
    import polars as pl

    return pl.DataFrame([r.to_row() for r in result.log])


def read_iterations(path: str | Path) -> pl.DataFrame:
    """An ``iterations.parquet`` of a result folder, an old one's ``lower_bound`` and
    ``upper_bound`` read as ``lower_bound_kw`` and ``upper_bound_kw``
    (:data:`ITERATION_COLUMNS`), so that old folders still read."""
    import polars as pl

    df = pl.read_parquet(path)
    return df.rename({old: new for old, new in ITERATION_COLUMNS.items()
                      if old in df.columns and new not in df.columns})


def write_result_json(result: Result, path: str | Path, *, force: bool = False) -> Path:
    """``result.to_json()`` to ``path``, atomically; an existing file is replaced only with
    ``force``."""
    return write_text(path, result.to_json() + "\n", force=force)


def write_result_dir(result: Result, path: str | Path, *, force: bool = False) -> Path:
    """``result.json``, ``buses.parquet``, ``branches.parquet``, ``switches.parquet``,
    ``iterations.parquet``, ``generators.parquet`` (empty for a network without generators),
    a scenario run's ``scenarios.parquet`` or a robust run's ``extreme_points.parquet``
    (:mod:`feederopt.results.uncertain_tables`: result.json's rows), a distribution OPF's
    ``devices.parquet`` (:meth:`~feederopt.results.dopf.DopfSummary.devices_table`),
    ``grid.png`` and, for a network read from a pandapower net, ``net.json``: the user's net
    with the answer's switch states (:func:`pandapower_net_json`) in a new folder."""
    from feederopt.report.plot import plot_grid

    with atomic_folder(path, force=force) as tmp:
        write_result_json(result, tmp / "result.json")
        # a quantity that does not exist (no rating, no AC run) is null, never NaN
        write_table(result.buses, tmp / "buses.parquet")
        write_table(result.branches, tmp / "branches.parquet")
        write_table(result.switches, tmp / "switches.parquet")
        # always, empty (with its columns) for a network without generators: read back, the
        # folder's table equals Result.generators (it was None; user test ut37_api2)
        write_table(result.generators, tmp / "generators.parquet")
        if result.log:
            write_table(iterations_table(result), tmp / "iterations.parquet")
        if result.dopf is not None:  # a DOPF's device settings (result.json's devices)
            write_table(result.dopf.devices_table(), tmp / DEVICES_FILE)
        # the rows of result.json's scenarios (robust), as a table (ut39_uncert #2); a
        # result read back (feederopt.load_result) holds them in its extra
        for name, table in uncertain_tables(result.uncertain.to_dict()
                                             if result.uncertain is not None
                                             else result.extra).items():
            write_table(table, tmp / name)
        # no topology, no switch states to draw (the report says so instead); a result read
        # back from its bare JSON file (feederopt.load_result("r.json")) has no bus and branch
        # tables to draw: no grid.png, said (it crashed in polars: session 44, savefix #1)
        if result.has_topology and (result.ac_check is not None
                                    or result.status.value != "error"):
            if has_grid_tables(result):
                plot_grid(result, tmp / "grid.png")
            else:
                from feederopt.errors import warn_user

                warn_user("grid.png is not written: the result holds no bus and branch tables "
                          "(a result read back from its JSON file); save the result folder "
                          "(feederopt.save, solve --out) and load_result that folder, or "
                          "solve again, to draw the grid")
        net_json = pandapower_net_json(result)
        if net_json is not None:
            write_text(tmp / NET_FILE, net_json)
    return Path(path)


def has_grid_tables(result: Result) -> bool:
    """Whether ``result`` has the bus and branch tables :func:`~feederopt.report.plot.plot_grid`
    draws (their ``id`` columns): a result read back from a bare ``result.json``
    (:func:`feederopt.load_result` of a ``save_json`` file) has empty tables."""
    return all("id" in t.columns and t.height > 0 for t in (result.buses, result.branches))


#: The pandapower net with the answer's switch states in a result folder (user test
#: ut43_ppgrid #2): ``pp.from_json(DIR/net.json)`` and ``pp.runpp`` give the AC check.
NET_FILE = "net.json"


def pandapower_net_json(result: Result) -> str | None:
    """``pp.to_json`` of :meth:`Result.to_pandapower` on the pandapower net the result's
    network was read from (its ``origin``): the user's net with the answer's switch states,
    loads, dispatch and device settings, whose ``pp.runpp`` is the result's AC check; None
    when there is none to write (no pandapower origin, no topology, a result read back from
    its JSON, or a net that ``pp.to_json`` cannot write, with a warning)."""
    from feederopt.io.pandapower import is_pandapower_net

    network = result.network
    if (network is None or not is_pandapower_net(network.origin) or not result.has_topology
            or result.switch_writer is None
            or (result.dopf is not None and result.device_writer is None)):
        return None
    import pandapower as pp

    net = result.to_pandapower(network.origin)
    try:
        return str(pp.to_json(net))
    except Exception as exc:  # pandapower raises many kinds (an object it cannot serialise)
        from feederopt.errors import warn_user

        # the result's other files are still written: net.json is left out, and said
        warn_user(f"net.json is not written: pandapower could not serialise the net ({exc}); "
                  "result.to_pandapower(net) gives it in Python")
        return None
