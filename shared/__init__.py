"""What the web and worker processes share: the channels, and one package per product word.

Each package's `__init__` exports its entry points (`from shared.templating import
render_message`). Most import them at once; `infra`, `messages`, `operations` and `templating`
name theirs under `if TYPE_CHECKING:` and `lazy_exports` imports each name's module the first
time it is asked for (PEP 562): at once, they would make an import cycle or load the database
layer into the render process (each `__init__` says which).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any


def lazy_exports(package: str, init: str, names: list[str]) -> Callable[[str], Any]:
    """The `__getattr__` of a package whose `__init__` file `init` imports `names` only for
    type checkers: each name read from its module on first use, then kept on the package."""
    homes = _type_checking_imports(Path(init).read_text(encoding="utf-8"))
    if sorted(homes) != sorted(names):  # `__all__` and the imports say the same, or neither
        raise ImportError(f"{package}: __all__ and its TYPE_CHECKING imports differ")

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


def _type_checking_imports(source: str) -> dict[str, str]:
    """Each name a module imports under `if TYPE_CHECKING:`, and the module it comes from."""
    return {
        alias.asname or alias.name: node.module or ""
        for block in ast.parse(source).body
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
