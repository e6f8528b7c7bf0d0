"""The package's import graph, built with ``ast`` from the source: no cycle, and no module of a
lower layer imports one of a higher layer.

Imports inside functions count for both. Imports under ``if TYPE_CHECKING:`` count for the
layers (a type from a higher layer is a dependency all the same) but not for cycles (they never
run)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "feederopt"

#: Lowest first. A module may import its own layer and the layers before it.
LAYERS = [
    "errors",
    "network",
    "io",
    "cases",
    "formulations",
    "problems",
    "solvers",
    "execution",
    "options",
    "algorithms",
    "validation",
    "results",
    "report",
    "api",
    "cli",
]

#: Top-level modules that belong to a layer of another name.
ALIASES = {
    "_version": "errors",  # a constant that every layer may read
    "_startup": "errors",  # the command's Ctrl-C while it imports (stdlib only)
    "forking": "errors",  # check_not_forked, which network and io call too
    "scalars": "errors",  # the one rule for numbers and switches given as options
    "feederopt": "api",  # the package root re-exports the api
    "api_threephase": "api",
    "api_threephase_feedback": "api",
    "api_partition": "api",
    "api_resilience": "api",
    "api_schedule": "api",
    "uncertainty": "api",
    "__main__": "cli",
}


@functools.cache
def _modules() -> dict[str, Path]:
    """Every module of the package and its file (read once per test file: the tests only read
    the map)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return ALIASES["feederopt"]
    head = parts[1]
    if head in ALIASES:
        return ALIASES[head]
    if head.startswith("cli"):
        return "cli"
    return head


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The package module that ``import name`` loads (the longest existing prefix)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                out.update(id(n) for n in ast.walk(stmt))
    return out


@functools.cache
def _import_nodes(path: Path) -> tuple[list[ast.Import | ast.ImportFrom], set[int]]:
    """The import statements of ``path`` (inside functions too) and the ids of those under
    ``if TYPE_CHECKING:``: the file parsed and walked once per test file (the 180 modules'
    parse is most of this file's time, and four tests read the graph)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    under = _type_checking_nodes(tree)  # ids of live nodes only: the tree is dropped after
    return nodes, {id(n) for n in nodes if id(n) in under}


def _imports(module: str, path: Path, modules: dict[str, Path], *,
             type_checking: bool = True) -> set[str]:
    nodes, under_type_checking = _import_nodes(path)
    is_package = path.name == "__init__.py"
    skip = set() if type_checking else under_type_checking
    found: set[str] = set()
    for node in nodes:
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from a import b`` loads a.b when b is a module, and a otherwise.
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        for name in names:
            if name.split(".")[0] != "feederopt":
                continue
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


@functools.cache
def _graph(*, type_checking: bool = True) -> dict[str, set[str]]:
    """The import graph of the package, built once per kind and test file (the tests only
    read it)."""
    modules = _modules()
    return {module: _imports(module, path, modules, type_checking=type_checking)
            for module, path in modules.items()}


def test_every_module_has_a_layer() -> None:
    unknown = sorted(m for m in _modules() if _layer(m) not in LAYERS)
    assert not unknown, f"modules outside every layer: {unknown}"


def test_no_lower_layer_imports_a_higher_one() -> None:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    wrong = sorted(
        f"{module} ({_layer(module)}) imports {target} ({_layer(target)})"
        for module, targets in _graph().items()
        for target in targets
        if rank[_layer(target)] > rank[_layer(module)]
    )
    assert not wrong, "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def test_no_import_cycle() -> None:
    cycles = _cycles(_graph(type_checking=False))
    assert not cycles, f"import cycles: {cycles}"


def test_the_checks_can_fail() -> None:
    """The graph helpers find a planted cycle and a planted upward import."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert _layer("feederopt.results.result") == "results"
    assert _layer("feederopt.cli.scenarios") == "cli"
    assert LAYERS.index(_layer("feederopt.report.html")) < LAYERS.index(_layer("feederopt"))


#: Layers that a layer skips although they are below it (issue 12: the results are plain data;
#: writing them and exporting them to pandapower is the output and api layers' work).
FORBIDDEN = {"results": {"io", "report"}}


def test_results_import_neither_io_nor_report() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _layer(target) in FORBIDDEN.get(_layer(module), set())
    )
    assert not wrong, "\n".join(wrong)


def test_cli_uses_only_the_public_api() -> None:
    """The CLI imports the package root, feederopt.api and its own modules, nothing else
    (and the root's stdlib-only start-up guard, ``feederopt._startup``, that the root itself
    runs under: a Ctrl-C while the package imports)."""
    allowed = {"feederopt", "feederopt.api", "feederopt._startup"}
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items() if _layer(module) == "cli"
        for target in targets
        if target not in allowed and _layer(target) != "cli"
    )
    assert not wrong, "\n".join(wrong)


def test_the_forbidden_check_can_fail() -> None:
    """An import of io from results is what the check catches."""
    assert _layer("feederopt.io.writing") in FORBIDDEN[_layer("feederopt.results.result")]


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("feederopt.io.matpower", "feederopt.errors"),
        ("feederopt.results.result", "feederopt.report.html"),
    ],
)
def test_resolve_finds_submodules(module: str, target: str) -> None:
    modules = _modules()
    if target not in modules:
        pytest.skip(f"{target} no longer exists")
    assert _resolve(target + ".Anything", modules) == target
