"""How large a value of a template is: about the characters `str()` writes for it, counted
through nested lists, tuples, sets and dicts, a shared one as often as it appears.

`[b] * 1000` holds 1,000 references, cheap to build, but if `b` is a string of a million
characters, printing it writes a billion in one C call that no deadline interrupts. The sandbox
measures what a value prints as before it prints, joins or multiplies it, so the bound is kept
before anything is built. Strings inside containers count with their quotes and escapes, a
number with its digits, any other object as a short `repr`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2.utils import Namespace

_VIEWS = (type({}.keys()), type({}.values()))
_ITEMS = type({}.items())
_OBJECT = 64  # the repr of another object: a macro, a loop, a generator
BRACKETS = 2  # what a list, tuple, set or dict prints around its items
_NAMED = 16  # what a view, a frozenset or a namespace prints around its items, with its name
_SCALARS = {str, int, float, bool, type(None), bytes}
_BRACKETED = {list, tuple, dict, set}


def _children(value: Any) -> Any:
    """The values `value` prints, when it is a container; None otherwise."""
    kind = type(value)
    if kind is list or kind is tuple:
        return value
    if kind is dict:
        return [*value.keys(), *value.values()]
    if kind in _SCALARS:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return value
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, _VIEWS):
        return list(value)
    if isinstance(value, _ITEMS):
        return [*value.mapping.keys(), *value.mapping.values()]
    if isinstance(value, Namespace):
        return _children(value._Namespace__attrs)  # noqa: SLF001 - what it prints
    return None


def _quoted(text: str) -> int:
    """At least the length of `repr(text)`: quotes, escaped backslashes and quotes, and the
    escapes of line breaks and tabs; other unprintable characters as the longest escape."""
    size = len(text) + 2 + text.count("\\") + text.count("'")
    if text.isprintable():
        return size
    if text.replace("\n", " ").replace("\r", " ").replace("\t", " ").isprintable():
        return size + text.count("\n") + text.count("\r") + text.count("\t")
    return size + 9 * len(text)


def _scalar(value: Any) -> int:
    """The characters a value that holds no others prints as inside a container."""
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, bytes | bytearray):
        return 4 * len(value) + 3
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):  # its digits (log10(2) is about 1233 / 4096) and its sign
        return value.bit_length() * 1233 // 4096 + 1 + (value < 0)
    if isinstance(value, float):
        return len(repr(value))
    return _OBJECT


def printed_size(value: Any, limit: int, tick: Callable[[], None]) -> int:
    """About the characters `str(value)` writes, or a number past `limit` as soon as it is
    past; each distinct container is walked once (`tick` is called for each)."""
    if _children(value) is None:
        return len(value) if isinstance(value, str) else _scalar(value)
    sizes: dict[int, int] = {}  # a container walked, 0 while its nested ones are
    texts: dict[int, int] = {}  # a text inside one, quoted
    pending: list[tuple[Any, list | None, int]] = [(value, None, 0)]
    while pending:
        container, nested, own = pending.pop()
        if nested is not None:  # its nested containers are walked: add them up
            total = own + sum(sizes[id(child)] for child in nested)
            sizes[id(container)] = total
            if total > limit:
                return total
            continue
        if id(container) in sizes:
            continue
        tick()
        sizes[id(container)] = 0  # a container inside itself counts once
        own, nested = BRACKETS if type(container) in _BRACKETED else _NAMED, []
        for child in _children(container):
            if type(child) is str:  # one scan of a text however often it appears
                if id(child) not in texts:
                    texts[id(child)] = 2 + _quoted(child)
                own += texts[id(child)]
            elif _children(child) is None:
                own += 2 + _scalar(child)
            else:
                own += 2
                nested.append(child)
            if own > limit:
                return own
        pending.append((container, nested, own))
        pending.extend((child, None, 0) for child in nested if id(child) not in sizes)
    return sizes[id(value)]
