"""Every filter bounded: before it runs, the values it prints are measured and its result's
size is estimated from its arguments; past the sandbox's bounds it is refused, named.

A bounded filter takes the template's context, so that Jinja never folds a constant use of it
while compiling (a template of 100,000 characters could fold thousands of results into its
code, each within the bound and all of them past it); the compiler evaluates constant uses
itself under the same bounds (`with_eval_context`) to refuse a bomb before it is stored.
A few of Jinja's filters are replaced by ones that build within the bound as they go
(`shared.templating.bounded_output`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import filters as jinja
from jinja2.utils import _PassArg, pass_context
from markupsafe import escape

from shared.templating.formats import percent_size
from shared.templating.limits import (
    MAX_INT_BITS,
    MAX_VALUE,
    check_printed,
    check_result,
    check_size,
    check_width,
    check_work,
    refuse,
    size_of,
)
from shared.templating.sizes import bounded_list, line_count, replaced_size

# Filters that read their value without printing or comparing it: their arguments are not
# measured (sort, unique, min, sum and the like compare or add items: they are).
_READING = {
    "abs", "attr", "batch", "count", "d", "default", "filesizeformat", "first", "float",
    "int", "items", "join", "last", "length", "list", "map", "random", "reject", "rejectattr",
    "reverse", "round", "select", "selectattr", "slice",
}  # fmt: skip
# Filters that take their value's items one at a time: an iterator given to them stays one.
_LAZY = {
    "attr", "batch", "d", "default", "first", "map", "reject", "rejectattr", "select",
    "selectattr",
}  # fmt: skip
_PLAIN = {str, int, float, bool, list, tuple, dict, type(None)}  # not iterators, at once


def bound_filters(functions: dict[str, Callable]) -> dict[str, Callable]:
    """Each filter bounded (see `bounded`)."""
    return {name: bounded(name, function) for name, function in functions.items()}


def bounded(name: str, function: Callable) -> Callable:
    """`function` as a filter that takes an iterator's items within the bound, measures what
    it prints, refuses a result estimated past the bound, and checks the result it built."""
    passed = _PassArg.from_obj(function)
    estimate = ESTIMATES.get(name)
    lazy, reading = name in _LAZY, name in _READING

    def run(eval_ctx: Any, context: Any, value: Any, /, *args: Any, **kwargs: Any) -> Any:
        if not lazy and type(value) not in _PLAIN and isinstance(value, Iterator):
            value = bounded_list(value)
        if not reading:
            for argument in (value, *args, *kwargs.values()):
                check_printed(argument)
        if estimate is not None:
            check_size(f"the result of {name}", estimate(eval_ctx, value, *args, **kwargs))
        if passed is None:
            result = function(value, *args, **kwargs)
        elif passed is _PassArg.eval_context:
            result = function(eval_ctx, value, *args, **kwargs)
        elif passed is _PassArg.environment:
            result = function(eval_ctx.environment, value, *args, **kwargs)
        else:
            result = function(context, value, *args, **kwargs)
        return check_result(result)

    @pass_context
    def bounded_filter(context: Any, value: Any, /, *args: Any, **kwargs: Any) -> Any:
        return run(context.eval_ctx, context, value, *args, **kwargs)

    bounded_filter.__name__ = bounded_filter.__qualname__ = f"bounded_{name}"
    bounded_filter.__doc__ = function.__doc__
    if passed is not _PassArg.context:  # what needs no context can be folded by the compiler
        bounded_filter.with_eval_context = lambda eval_ctx, *a, **k: run(eval_ctx, None, *a, **k)
    return bounded_filter


def _length(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _center(ctx: Any, value: Any, width: Any = 80) -> int:
    check_width(width)
    return max(size_of(value), width if isinstance(width, int) else 0)


def _indent(ctx: Any, s: Any, width: Any = 4, *args: Any, **kwargs: Any) -> int:
    prefix = width if isinstance(width, int) else len(_text(width))
    check_width(prefix)
    text = _text(s)
    return len(text) + line_count(text) * prefix + 1


def _format(ctx: Any, value: Any, *args: Any, **kwargs: Any) -> int:
    return percent_size(_text(value), kwargs or args)


def _rows(value: Any, rows: int, fills: int, fill_with: Any) -> int:
    """The items in lists of their own, and the fills of the last lists."""
    filled = fills * (size_of(fill_with) + 2) if fill_with is not None else 0
    return size_of(value) + 5 * _length(value) + 4 * (rows + 1) + filled


def _batch(ctx: Any, value: Any, linecount: Any, fill_with: Any = None) -> int:
    count = max(linecount, 1) if isinstance(linecount, int) else 1
    return _rows(value, _length(value) // count, count, fill_with)


def _slice(ctx: Any, value: Any, slices: Any, fill_with: Any = None) -> int:
    count = max(slices, 0) if isinstance(slices, int) else 0
    return _rows(value, count, count, fill_with)


def _replace(ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> int:
    texts = [_text(value) for value in (s, old, new)]
    if ctx.autoescape:
        texts = [str(escape(value)) for value in texts]
    return replaced_size(*texts, -1 if count is None else count)


def _join(ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> int:
    items = list(value) if isinstance(value, list | tuple) else bounded_list(value)
    if attribute is not None:
        items = list(map(jinja.make_attrgetter(ctx.environment, attribute), items))
    size = 0
    for item in items:
        size += size_of(item, MAX_VALUE - size)
        check_size("the result of join", size)
    return size + len(_text(d)) * max(len(items) - 1, 0)


def _wordwrap(ctx: Any, s: Any, width: Any = 79, long_words: Any = True, wrapstring: Any = None,
              *args: Any, **kwargs: Any) -> int:  # fmt: skip
    text = _text(s)
    check_work("wordwrap", len(text))
    wrap = _text(wrapstring) if wrapstring is not None else ctx.environment.newline_sequence
    return len(text) + (len(text) + line_count(text)) * len(wrap)


def _urlize(ctx: Any, value: Any, trim: Any = None, nofollow: Any = False, target: Any = None,
            rel: Any = None, *args: Any, **kwargs: Any) -> int:  # fmt: skip
    text = _text(value)
    check_work("urlize", len(text))
    attributes = len(_text(target or "")) + len(_text(rel or "")) + 64
    return 10 * len(text) + (len(text) // 2 + 1) * attributes


def _int(ctx: Any, value: Any, default: Any = 0, base: Any = 10) -> int:
    """A text of digits is refused when its number would be past MAX_INT_BITS."""
    if isinstance(value, str):
        digits = value.strip().lstrip("+-").replace("_", "")
        per_digit = math.log2(base) if isinstance(base, int) and 2 <= base <= 36 else 6
        if digits.isalnum() and len(digits) * per_digit > MAX_INT_BITS:
            raise refuse("a number's size in bits", MAX_INT_BITS)
    return 0


def _slow(what: str) -> Callable[..., int]:
    """An estimate that refuses more than MAX_WORK items for a filter slow per item."""

    def estimate(ctx: Any, value: Any, *args: Any, **kwargs: Any) -> int:
        check_work(what, _length(value))
        return 0

    return estimate


ESTIMATES: dict[str, Callable[..., int]] = {
    "center": _center,
    "indent": _indent,
    "format": _format,
    "batch": _batch,
    "slice": _slice,
    "replace": _replace,
    "join": _join,
    "wordwrap": _wordwrap,
    "urlize": _urlize,
    "int": _int,
    "truncate": lambda ctx, value, length=255, killwords=False, end="...", *args: (
        min(size_of(value), max(length, 0) if isinstance(length, int) else 0) + size_of(end)
    ),
    "xmlattr": lambda ctx, d, *args, **kwargs: 6 * size_of(d) + 16,
    "urlencode": lambda ctx, value: size_of(value) * (3 if _text(value).isascii() else 9),
    **{name: _slow(name) for name in ("sort", "dictsort", "groupby", "unique", "min", "max")},
    "title": _slow("title"),
}
