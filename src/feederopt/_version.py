"""The package version (its own module, so that any layer may read it without the package root),
and the stamp every result JSON carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__version__ = "0.1.0"

#: The version of the result JSON documents' layout, the same for every kind. It goes up by one
#: when a field is renamed, removed or changes its meaning or unit (a reader of version N then
#: knows what it reads); a field added leaves it as it is. Files without it are from before
#: version 1 and are read as before.
SCHEMA_VERSION = 1


def stamped(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with ``kind`` (which command wrote it), ``schema_version`` and
    ``feederopt_version`` first: a result JSON says what it is and which layout and release
    wrote it, so that a reader (``feederopt report``, ``read_result``, a user's script) need
    not guess from its fields (the solve result had none of the three; user test ut_out #3)."""
    rest = {k: v for k, v in doc.items()
            if k not in ("kind", "schema_version", "feederopt_version")}
    return {"kind": kind, "schema_version": SCHEMA_VERSION, "feederopt_version": __version__,
            **rest}
