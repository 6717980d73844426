"""How much a value built by a template holds: the items `str()` would write, counted through
nested lists, tuples and dicts, a shared one as often as it appears.

`[b] * 1000` holds 1,000 references, cheap to build, but if `b` holds a million items, printing
it writes a billion in one C call that no deadline interrupts. The sandbox counts what a list,
tuple or dict holds when a template builds one, so the bound is kept before anything prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _children(value: Any) -> list | tuple | None:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list | tuple):
        return value
    return None


def held_items(value: Any, limit: int, tick: Callable[[], None]) -> int:
    """The items `value` holds at every depth, or a number past `limit` as soon as it is
    past; each distinct container is walked once (`tick` is called for each)."""
    if _children(value) is None:
        return 0
    held: dict[int, int] = {}
    pending: list[tuple[Any, bool]] = [(value, False)]
    while pending:
        container, walked = pending.pop()
        children = _children(container)
        if walked:
            total = len(children) + sum(held.get(id(child), 0) for child in children)
            held[id(container)] = total
            if total > limit:
                return total
            continue
        if id(container) in held:
            continue
        tick()
        held[id(container)] = 0  # a container inside itself counts once
        pending.append((container, True))
        pending.extend(
            (child, False)
            for child in children
            if _children(child) is not None and id(child) not in held
        )
    return held[id(value)]
