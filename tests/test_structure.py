"""The code's shape, read from the source with `ast` (STYLE.md): functions that fit on a screen
and modules short enough to read in one sitting, in `api/`, `worker/`, `shared/` and the tests
(the migrations' versions, history written once, aside); no import cycle between the modules
of `api/`, `worker/` and `shared/`; `shared/` beneath `api/` and `worker/`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "worker", "shared")
MIGRATIONS = ROOT / "shared" / "migrations" / "versions"
MAX_FUNCTION_LINES = 40
MAX_MODULE_LINES = 300


@dataclass(frozen=True)
class Import:
    """One import statement's edge: the importing module, where, and the module it names."""

    module: str
    path: Path
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


def sources(*folders: str) -> list[Path]:
    """The Python files of these top-level folders, the migrations' versions left out."""
    found = (path for folder in folders for path in sorted((ROOT / folder).rglob("*.py")))
    return [path for path in found if MIGRATIONS not in path.parents]


def module_name(path: Path) -> str:
    """`api/cli.py` → `api.cli`; `shared/feed/__init__.py` → `shared.feed`."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function and method of a module, nested ones too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def resolved(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a `from … import` reads from, a relative one resolved from `module`."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    anchor = ".".join(package[: len(package) - node.level + 1])
    return f"{anchor}.{node.module}" if node.module else anchor


def imported(node: ast.Import | ast.ImportFrom, module: str, modules: dict[str, Path]) -> set[str]:
    """The modules an import statement names: `from p import n` names `p.n` when that is a
    module, else `p`."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = resolved(node, module, modules[module].name == "__init__.py")
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}


def type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """The imports under `if TYPE_CHECKING:`, which never run."""
    return {
        node
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for statement in block.body
        for node in ast.walk(statement)
    }


def imports(modules: dict[str, Path]) -> list[Import]:
    """Every import that runs, at module level or inside a function, from one of `modules` to
    another (those only for type checkers left out)."""
    edges = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = type_checking_only(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and node not in skipped:
                named = imported(node, module, modules) & modules.keys()
                edges += [Import(module, path, node.lineno, name) for name in sorted(named)]
    return edges


def cycles(edges: list[Import]) -> list[list[Import]]:
    """One cycle through each group of modules that import each other (Tarjan's strongly
    connected components, then a path round each)."""
    graph: dict[str, list[Import]] = {}
    for edge in edges:
        graph.setdefault(edge.module, []).append(edge)
    return [cycle_through(group, graph) for group in strongly_connected(graph)]


def strongly_connected(graph: dict[str, list[Import]]) -> list[set[str]]:
    """The groups of two or more modules each reachable from the others, and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for edge in graph.get(module, []):
            if edge.target not in index:
                visit(edge.target)
                low[module] = min(low[module], low[edge.target])
            elif edge.target in stack:
                low[module] = min(low[module], index[edge.target])
        if low[module] == index[module]:
            group = set()
            while module not in group:
                group.add(stack.pop())
            looped = any(edge.target == module for edge in graph.get(module, []))
            if len(group) > 1 or looped:
                groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def cycle_through(group: set[str], graph: dict[str, list[Import]]) -> list[Import]:
    """A path of imports inside `group` from its first module back to itself."""
    start = min(group)
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        module = frontier.pop(0)
        for edge in graph.get(module, []):
            if edge.target == start:
                return paths[module] + [edge]
            if edge.target in group and edge.target not in paths:
                paths[edge.target] = paths[module] + [edge]
                frontier.append(edge.target)
    raise AssertionError(f"no cycle through {sorted(group)}")  # a strong component has one


def test_no_function_is_over_40_lines():
    too_long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} is {size} lines"
        for path in sources(*PACKAGES, "tests")
        for node in functions(ast.parse(path.read_text(encoding="utf-8")))
        if (size := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert not too_long, f"over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(too_long)


def test_no_module_is_over_300_lines():
    too_long = [
        f"{path.relative_to(ROOT)}:1 is {size} lines"
        for path in sources(*PACKAGES, "tests")
        if (size := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not too_long, f"over {MAX_MODULE_LINES} lines:\n" + "\n".join(too_long)


def test_no_import_cycle_between_modules():
    modules = {module_name(path): path for path in sources(*PACKAGES)}
    report = [
        " → ".join([cycle[0].module] + [edge.target for edge in cycle])
        + "".join(f"\n  {edge}" for edge in cycle)
        for cycle in cycles(imports(modules))
    ]
    assert not report, "import cycles:\n" + "\n".join(report)


def test_shared_imports_neither_api_nor_worker():
    modules = {module_name(path): path for path in sources(*PACKAGES)}
    upward = [
        str(edge)
        for edge in imports(modules)
        if edge.module.split(".")[0] == "shared" and edge.target.split(".")[0] in ("api", "worker")
    ]
    assert not upward, "shared/ imports api/ or worker/:\n" + "\n".join(upward)
