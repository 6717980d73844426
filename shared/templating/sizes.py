"""What an operation of a template would build, estimated from its inputs before it runs: the
`*`, `+`, `**` and `%` operators, the methods of strings, bytes, integers and lists that
build or work in one C call, and the items of an iterator that a built-in takes all at once.

Each estimate is at least the characters the result prints as (`shared.templating.values`),
so that a refusal comes before Python builds anything; the operation then runs as Python runs
it, and an argument Python refuses is left for Python to refuse with its own error.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

from jinja2.runtime import LoopContext

from shared.templating.formats import percent_size
from shared.templating.limits import (
    HELD,
    MAX_INT_BITS,
    MAX_VALUE,
    check_deadline,
    check_printed,
    check_size,
    check_width,
    check_work,
    refuse,
    size_of,
)
from shared.templating.values import BRACKETS

_TEXT = (str, bytes, bytearray)
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_HELD = (list, tuple, dict, set, frozenset)
_TABLES = (list, tuple, type({}.values()))  # what str.translate looks characters up in
# Functions that take their arguments whole in one C call: built-ins, types, the methods of
# Markup (which hand their arguments to str's) and `loop.changed` (which compares them).
_BUILTINS = (types.BuiltinFunctionType, types.BuiltinMethodType, type)
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines splits


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `+` and `%` when their result would be past the bounds."""
    if operator == "*":
        _check_product(left, right)
    elif operator == "**":
        ints = isinstance(left, int) and isinstance(right, int)
        if ints and abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_INT_BITS:
            raise refuse(f"the size in bits of {left} ** {right}", MAX_INT_BITS)
    elif operator == "+":
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            size = size_of(left) + size_of(right, MAX_VALUE)
            if size > MAX_VALUE:
                raise refuse("a sum of two texts" if isinstance(left, _TEXT) else HELD)
    elif operator == "%" and isinstance(left, _TEXT):
        check_size("the result of `%`", percent_size(left, right))


def _check_product(left: Any, right: Any) -> None:
    """`"a" * n`, `[b] * n`: what the value prints as, n times; two integers' bits."""
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise refuse("a product's size in bits", MAX_INT_BITS)
        return
    sized, times = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
    if not isinstance(sized, _SEQUENCES) or not isinstance(times, int) or times <= 0:
        return
    if isinstance(sized, _TEXT):
        if len(sized) * times > MAX_VALUE:
            raise refuse(f"a value of {len(sized):,} × {times:,} characters")
    elif (size_of(sized, MAX_VALUE // times + BRACKETS) - BRACKETS) * times > MAX_VALUE:
        raise refuse(HELD)  # the items, times over, inside one pair of brackets


def bounded_list(iterable: Any) -> list:
    """The items of `iterable` in a list, refused as soon as they print past the bound."""
    if isinstance(iterable, _TEXT):
        check_size("a list of characters", 5 * len(iterable))
        return list(iterable)
    if not isinstance(iterable, Iterator):
        return list(iterable)  # a container's items already exist; measured when used
    items, size = [], 0
    for item in iterable:
        check_deadline()
        size += 4 + size_of(item, MAX_VALUE - size)
        if size > MAX_VALUE:
            raise refuse(HELD)
        items.append(item)
    return items


def added_size(name: str, args: tuple, kwargs: dict) -> int:
    """About the characters a method that grows its list, dict or set adds to it: its
    arguments, and for `extend` and `update` the items of the first one (a range, a view)."""
    values = [*args, *kwargs.values()]
    if name in ("extend", "update") and args and not isinstance(args[0], _HELD):
        values[0] = bounded_list(args[0])
    return sum(size_of(value) for value in values)


def line_count(text: str) -> int:
    """At least the lines `text.splitlines()` gives."""
    return 1 + sum(text.count(separator) for separator in _LINE_BREAKS)


def replaced_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    """The length of `text.replace(old, new, count)`."""
    if not all(isinstance(value, _TEXT) for value in (text, old, new)):
        return 0  # Python refuses it
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def joined_size(separator: Any, items: Any) -> int:
    """The length of `separator.join(items)`, for items that already exist (an iterator is
    taken into a list before): a text's characters, a container's or a view's items."""
    if isinstance(items, _TEXT):
        return len(items) * (1 + len(separator))
    if not isinstance(items, _HELD):
        items = list(items)  # a view or a range, as long as what it shows
    texts = sum(len(item) for item in items if isinstance(item, _TEXT))
    return texts + len(separator) * max(len(items) - 1, 0)


def _padded(owner: Any, width: Any, fill: Any = " ") -> int:
    check_width(width)
    return max(len(owner), width) if isinstance(width, int) else 0


def _expanded(owner: Any, tabsize: Any = 8) -> int:
    check_width(tabsize)
    tabs = owner.count("\t" if isinstance(owner, str) else b"\t")
    return len(owner) + tabs * max(tabsize, 0) if isinstance(tabsize, int) else 0


def _split(owner: Any, sep: Any = None, maxsplit: Any = -1) -> int:
    """split and rsplit: the parts, each quoted in the list."""
    if sep is None:  # runs of whitespace: at most one more part than whitespace characters
        blanks = " \t\n\r\x0b\x0c" if isinstance(owner, str) else b" \t\n\r\x0b\x0c"
        parts = sum(map(owner.count, blanks)) + 1 if owner.isascii() else len(owner) // 2 + 1
    else:
        parts = owner.count(sep) + 1
    if isinstance(maxsplit, int) and maxsplit >= 0:
        parts = min(parts, maxsplit + 1)
    return len(owner) + 6 * parts


def _split_lines(owner: Any, keepends: Any = False) -> int:
    if isinstance(owner, str):
        return len(owner) + 6 * line_count(owner)
    return len(owner) + 6 * (owner.count(b"\n") + owner.count(b"\r") + 1)


def _translated(owner: Any, table: Any) -> int:
    """Each character may become the longest text of the table."""
    values = table.values() if isinstance(table, dict) else table
    if isinstance(owner, str) and isinstance(values, _TABLES):
        longest = max((len(v) for v in values if isinstance(v, str)), default=1)
        return len(owner) * max(longest, 1)
    return len(owner)


def _encoded(owner: Any, encoding: Any = "utf-8", errors: Any = "strict") -> int:
    """UTF-32 takes four bytes a character, an XML character reference ten."""
    return len(owner) * (4 if owner.isascii() else 10) + 4


def _to_bytes(owner: int, length: Any = 1, *args: Any, **kwargs: Any) -> int:
    return length if isinstance(length, int) else 0


def _sorted(owner: list, *args: Any, **kwargs: Any) -> int:
    check_work("a sort", len(owner))
    return _compared(owner)


def _compared(owner: Any, *args: Any) -> int:
    """count, index, remove, sort compare items, in one C call as long as the list is."""
    for value in (owner, *args):
        check_printed(value)
    return 0


# The methods whose result an owner of this type and their arguments tell, with what each builds.
_METHODS: dict[type | tuple, dict[str, Any]] = {
    _TEXT: {
        "center": _padded,
        "ljust": _padded,
        "rjust": _padded,
        "zfill": _padded,
        "expandtabs": _expanded,
        "replace": replaced_size,
        "join": joined_size,
        "translate": _translated,
        "split": _split,
        "rsplit": _split,
        "splitlines": _split_lines,
        "decode": lambda owner, *args, **kwargs: 4 * len(owner),
        "hex": lambda owner, *args, **kwargs: 3 * len(owner),
    },
    str: {"encode": _encoded},
    int: {"to_bytes": _to_bytes},
    list: {"sort": _sorted, "count": _compared, "index": _compared, "remove": _compared},
    tuple: {"count": _compared, "index": _compared},
}


def prepare_call(function: Any, args: tuple, kwargs: dict) -> tuple:
    """The arguments to call `function` with: for a built-in, an iterator taken into a
    bounded list first and each argument measured (it takes them whole, in one C call);
    refused when the method's result would be past the bounds."""
    owner, name = getattr(function, "__self__", None), getattr(function, "__name__", "")
    if isinstance(function, _BUILTINS) or isinstance(owner, (*_TEXT, LoopContext)):
        args = tuple(bounded_list(a) if isinstance(a, Iterator) else a for a in args)
        for argument in (*args, *kwargs.values()):
            check_printed(argument)
    for kind, methods in _METHODS.items():
        if isinstance(owner, kind) and name in methods:
            try:
                size = methods[name](owner, *args, **kwargs)
            except TypeError:
                break  # not arguments Python takes: it refuses them itself
            check_size(f"the result of {name}", size)
            break
    return args
