"""Reading and writing networks: files and folders only.

:func:`read` reads a MATPOWER ``.m`` file, a pandapower JSON file or a folder of tables
(:mod:`feederopt.io.folder`) by its type. Every problem comes back as an
:class:`~feederopt.errors.InputError` naming the file. Built-in case names are resolved one layer
up, by :func:`feederopt.cases.load` (which also reads three-phase ``.dss`` feeders).
"""

from __future__ import annotations

from pathlib import Path

from feederopt.io._common import no_such_path, unknown_file_type
from feederopt.io.folder import read_folder, write_folder
from feederopt.io.matpower import read_matpower
from feederopt.io.pandapower import (
    TieRule,
    from_pandapower,
    is_pandapower_net,
    read_pandapower_json,
    to_pandapower,
    write_switch_states,
)
from feederopt.network.container import Network

#: Where a balanced network is not what a .dss path gives (the Python API's ``load``).
THREE_PHASE_READERS = (
    "an OpenDSS .dss file is a three-phase network: feederopt.solve_three_phase(path) solves "
    "it, feederopt.cases.load_three_phase (or load_any) reads it; on the command line, "
    "feederopt solve, info and partition take it")
KNOWN_TYPES = (
    "a built-in case name (see `feederopt cases`), a MATPOWER .m file, "
    "a pandapower .json file or a folder of .parquet/.csv tables (" + THREE_PHASE_READERS + ")"
)

__all__ = [
    "KNOWN_TYPES",
    "from_pandapower",
    "is_pandapower_net",
    "looks_like_path",
    "read",
    "read_folder",
    "read_matpower",
    "read_pandapower_json",
    "to_pandapower",
    "write_folder",
    "write_switch_states",
]


def looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or bool(Path(text).suffix) or text.startswith(".")


def read(source: str | Path, *, ties: TieRule = "auto") -> Network:
    """Read a file or folder by its type, without validating it; ``ties`` is the pandapower
    reader's tie rule (:func:`from_pandapower`)."""
    path = Path(source)
    if path.is_dir():
        return read_folder(path)
    if not path.exists():
        raise no_such_path(source)
    suffix = path.suffix.lower()
    if suffix == ".m":
        return read_matpower(path)
    if suffix == ".json":
        return read_pandapower_json(path, ties=ties)
    if suffix == ".dss":
        raise unknown_file_type(
            path, f"a balanced network here; {THREE_PHASE_READERS}",
            f"'{path}' is a three-phase OpenDSS network; this needs a balanced one (a "
            "MATPOWER .m file, a pandapower .json net or a folder of tables)")
    if suffix in (".csv", ".parquet"):
        raise unknown_file_type(path, "the folder that holds the tables, not one table",
                                f"'{path}' is one table; a network is the folder of its tables")
    raise unknown_file_type(path, KNOWN_TYPES)
