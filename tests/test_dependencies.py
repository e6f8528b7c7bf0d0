"""Every package that ``src/`` imports is declared in ``pyproject.toml`` (issue 11).

A fresh ``pip install -e .`` once failed with ``No module named 'click'``: ``cli.py`` imported
click, which only the test extras pulled in (through ray). This test walks every import
statement of the package (module level and inside functions) and checks that each third-party
module belongs to a declared distribution: the core ``dependencies``, or an optional extra for
imports that only an optional feature makes (Ray). An import inside ``try: ... except
ImportError`` is optional by construction and may be undeclared.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "feederopt"


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _declared() -> tuple[set[str], set[str]]:
    """(core dependencies, every optional extra's) as normalised names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name(r) for r in project["dependencies"]}
    extras = {_name(r) for reqs in project.get("optional-dependencies", {}).values()
              for r in reqs}
    return core, extras


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether ``node`` sits in the body of a ``try`` that catches ImportError."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                names = handler.type
                caught = ([names] if names is not None and not isinstance(names, ast.Tuple)
                          else list(names.elts) if isinstance(names, ast.Tuple) else [])
                if any(isinstance(n, ast.Name) and n.id in ("ImportError",
                                                            "ModuleNotFoundError")
                       for n in caught):
                    return True
        child, parent = parent, parents.get(parent)
    return False


def _imports() -> dict[str, set[str]]:
    """Top-level module -> the files importing it (unguarded imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            if _guarded(node, parents):
                continue
            for module in modules:
                top = module.split(".")[0]
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_walk_sees_the_known_imports() -> None:
    """The walk finds imports at module level and inside functions (so the test can fail)."""
    found = _imports()
    assert {"click", "typer", "highspy", "polars", "ray"} <= set(found)
    assert "numba" not in found  # only inside try/except ImportError


def test_every_import_is_a_declared_dependency() -> None:
    core, extras = _declared()
    dists = md.packages_distributions()
    missing = []
    for module, files in sorted(_imports().items()):
        if module == "feederopt" or module in sys.stdlib_module_names:
            continue
        names = {_name(d) for d in dists.get(module, [])}
        if not names:
            missing.append(f"{module} (not installed; imported by {sorted(files)})")
        elif not names & (core | extras):
            missing.append(f"{module} from {sorted(names)} (imported by {sorted(files)})")
    assert not missing, "undeclared imports: " + "; ".join(missing)


def test_optional_extras_are_imported_only_inside_functions() -> None:
    """A module that only an extra provides must not be imported at module level: the core
    install (``pip install -e .``) would fail at import time."""
    core, extras = _declared()
    dists = md.packages_distributions()
    optional = {m for m in _imports()
                if m in dists and not {_name(d) for d in dists[m]} & core
                and {_name(d) for d in dists[m]} & extras}
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and node.level == 0 else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in optional]
    assert not offenders, offenders
