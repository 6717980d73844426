"""Each package of `shared/` exports its entry points: its `__all__` lists the names its
`__init__` imports, and each is its module's object, whether imported at once or on first use
(those under `if TYPE_CHECKING:`, through `shared.lazy_exports`)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INITS = sorted(
    path for path in (ROOT / "shared").rglob("__init__.py") if "migrations" not in path.parts
)


def package_name(init: Path) -> str:
    """`shared/feed/__init__.py` → `shared.feed`."""
    return ".".join(init.parent.relative_to(ROOT).parts)


def imported_names(init: Path) -> dict[str, str]:
    """Each name an `__init__` imports from one of ours, and the module it comes from."""
    return {
        alias.asname or alias.name: node.module
        for node in ast.walk(ast.parse(init.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shared.")
        for alias in node.names
    }


@pytest.mark.parametrize("init", INITS, ids=package_name)
def test_every_exported_name_is_its_modules_object(init):
    package = importlib.import_module(package_name(init))
    names = imported_names(init)
    assert sorted(getattr(package, "__all__", [])) == sorted(names)
    for name, module in names.items():
        assert getattr(package, name) is getattr(importlib.import_module(module), name), name


@pytest.mark.parametrize("init", INITS, ids=package_name)
def test_no_exported_name_is_also_a_module_of_its_package(init):
    # A module imported sets its name on the package, over what `__getattr__` would give.
    modules = {path.stem for path in init.parent.glob("*.py")} | {
        path.parent.name for path in init.parent.glob("*/__init__.py")
    }
    assert not modules & set(imported_names(init))


def test_a_lazy_package_imports_a_module_only_when_asked():
    # Given a fresh interpreter, when it imports the error types of `shared.infra`,
    # then neither the database layer nor the broker comes with them (the render process).
    probe = "import sys, shared.infra.errors; print(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "'shared.infra.db'" not in out.stdout and "'shared.infra.broker'" not in out.stdout
