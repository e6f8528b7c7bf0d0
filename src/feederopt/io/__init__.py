"""Reading and writing networks.

:func:`load` is the one entry point: a built-in case name, a MATPOWER ``.m`` file, a pandapower
JSON file or net object, or a folder of tables (:mod:`feederopt.io.folder`). Every problem comes
back as an :class:`~feederopt.network.InputError` naming the file or case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feederopt.io._common import unknown_file_type, unreadable
from feederopt.io.folder import read_folder, write_folder
from feederopt.io.matpower import read_matpower
from feederopt.io.pandapower import (
    from_pandapower,
    is_pandapower_net,
    read_pandapower_json,
    to_pandapower,
    write_switch_states,
)
from feederopt.network.container import Network

KNOWN_TYPES = (
    "a built-in case name (see `feederopt cases`), a MATPOWER .m file, "
    "a pandapower .json file or a folder of .parquet/.csv tables"
)

__all__ = [
    "KNOWN_TYPES",
    "from_pandapower",
    "load",
    "read_folder",
    "read_matpower",
    "read_pandapower_json",
    "to_pandapower",
    "write_folder",
    "write_switch_states",
]


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or bool(Path(text).suffix) or text.startswith(".")


def read(source: str | Path) -> Network:
    """Read a file or folder by its type, without validating it."""
    path = Path(source)
    if path.is_dir():
        return read_folder(path)
    if not path.exists():
        raise unreadable(path, "no such file or folder", hint="check the path")
    suffix = path.suffix.lower()
    if suffix == ".m":
        return read_matpower(path)
    if suffix == ".json":
        return read_pandapower_json(path)
    if suffix == ".dss":
        raise unknown_file_type(path, KNOWN_TYPES + " (OpenDSS files are not read yet)")
    if suffix in (".csv", ".parquet"):
        raise unknown_file_type(path, "the folder that holds the tables, not one table")
    raise unknown_file_type(path, KNOWN_TYPES)


def load(source: Any, *, check: bool = True) -> Network:
    """A validated Network from a case name, a path or a pandapower net.

    ``source`` may be a :class:`Network` (validated and returned), a pandapower net, a built-in
    case name such as ``"case33bw"``, or the path of a MATPOWER ``.m`` file, a pandapower
    ``.json`` file or a network folder. An existing path wins over a case of the same name
    only when it looks like a path (has a suffix or a separator).

    Raises :class:`~feederopt.network.InputError` with ``UNKNOWN_FILE_TYPE``,
    ``UNREADABLE_FILE`` or ``UNKNOWN_CASE``, or with every validation problem of the network.
    """
    from feederopt.cases import has_case, load_case

    if isinstance(source, Network):
        net = source
    elif is_pandapower_net(source):
        net = from_pandapower(source)
    elif isinstance(source, str | Path):
        text = str(source)
        if isinstance(source, str) and not _looks_like_path(text) and has_case(text):
            return load_case(text, check=check)
        if isinstance(source, str) and not _looks_like_path(text) and not Path(text).exists():
            return load_case(text, check=check)  # raises UNKNOWN_CASE
        net = read(source)
    else:
        raise TypeError(f"cannot load a {type(source).__name__}")
    return net.check() if check else net
