"""Compiled templates, kept by their text in a cache bounded by bytes, per project and in all.

A compiled template keeps up to ~26 bytes for each character of its source (a tag-heavy one;
plain text ~1), so an entry is charged 32 bytes a character: one tenant's large templates
push out its own older entries first, and never more than its share of everyone's.
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

BYTES_PER_CHARACTER = 32
ENTRY_OVERHEAD = 4096
TOTAL_BYTES = 64 << 20  # in one render process
PROJECT_BYTES = 16 << 20  # one project's share of it

_project: contextvars.ContextVar[str] = contextvars.ContextVar("template_project", default="")


@contextmanager
def for_project(project_id: str) -> Iterator[None]:
    """Charge the templates compiled inside this block to `project_id`."""
    token = _project.set(project_id)
    try:
        yield
    finally:
        _project.reset(token)


def charge(source: str) -> int:
    """The bytes an entry of this source is charged."""
    return ENTRY_OVERHEAD + BYTES_PER_CHARACTER * len(source)


class CompiledTemplates:
    """An LRU of compiled templates whose sizes sum to at most `total`, `per_project` each."""

    def __init__(self, total: int = TOTAL_BYTES, per_project: int = PROJECT_BYTES) -> None:
        self.total, self.per_project = total, per_project
        self._entries: OrderedDict[tuple[str, str, bool], tuple[Any, int]] = OrderedDict()
        self._used: dict[str, int] = {}
        self._size = 0
        self._lock = threading.Lock()

    def get(self, source: str, escaped: bool, build: Callable[[], Any]) -> Any:
        """The compiled template for this text, built and kept on a miss."""
        key = (_project.get(), source, escaped)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[0]
        compiled = build()
        size = charge(source)
        if size <= self.per_project:
            with self._lock:
                self._keep(key, compiled, size)
        return compiled

    def held(self, project_id: str | None = None) -> int:
        """Bytes charged in all, or to one project."""
        return self._size if project_id is None else self._used.get(project_id, 0)

    def _keep(self, key: tuple[str, str, bool], compiled: Any, size: int) -> None:
        """Add an entry, evicting the project's oldest, then everyone's oldest, to fit."""
        if key in self._entries:
            return
        project = key[0]
        while self._used.get(project, 0) + size > self.per_project:
            self._evict(next(k for k in self._entries if k[0] == project))
        while self._size + size > self.total:
            self._evict(next(iter(self._entries)))
        self._entries[key] = (compiled, size)
        self._used[project] = self._used.get(project, 0) + size
        self._size += size

    def _evict(self, key: tuple[str, str, bool]) -> None:
        """Drop one entry and its charge."""
        _, size = self._entries.pop(key)
        self._used[key[0]] -= size
        if not self._used[key[0]]:
            del self._used[key[0]]
        self._size -= size


COMPILED = CompiledTemplates()
