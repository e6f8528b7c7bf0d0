"""Disaster-scenario files shipped with a built-in case (``cases/data/<case>/disasters/``), found
by name (``feederopt plan zhang13 --scenarios A_C_p1``) or read from a path."""

from __future__ import annotations

from pathlib import Path

from feederopt.cases.registry import DATA_DIR
from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.io.disasters import DisasterSet, read_disasters
from feederopt.network.container import Network


def shipped_disasters(case: str) -> list[str]:
    """The names of the disaster files shipped with built-in case ``case`` (may be empty)."""
    folder = DATA_DIR / case / "disasters"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix in (".json", ".csv"))


def disaster_path(spec: str | Path, case: str | None) -> Path:
    """``spec`` as a path: an existing file, or the name of a file shipped with ``case``."""
    path = Path(spec)
    if path.is_file():
        return path
    if case is not None:
        for ext in (".json", ".csv"):
            shipped = DATA_DIR / case / "disasters" / f"{spec}{ext}"
            if shipped.is_file():
                return shipped
    names = shipped_disasters(case) if case is not None else []
    raise InputError([Problem(
        ProblemKind.BAD_SCENARIO, "disasters", f"'{spec}' is neither a file nor a scenario set "
        "shipped with the case", ids=(str(spec),), field="scenarios",
        hint=f"shipped with {case}: {', '.join(names)}" if names else
        "give a .json or .csv disaster-scenario file")])


def load_disasters(spec: str | Path, net: Network, case: str | None = None) -> DisasterSet:
    """Read the disaster scenarios ``spec`` (a path or a shipped name) for ``net``."""
    return read_disasters(disaster_path(spec, case), net)
