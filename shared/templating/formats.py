"""How long a formatted text would be, from the format and its values, before Python formats
it: `template % values` (and the `format` filter), and each field of `str.format`.

A field writes its value or pads it to its width, whichever is longer, so the result is
the template's own characters plus, for each field, the longer of the two. Each width and
precision is at most MAX_WIDTH on its own, and the sum is what the sandbox bounds.
"""

from __future__ import annotations

import re
from typing import Any

from shared.templating.limits import check_width, size_of

# What follows `%` and an optional `(key)`: flags, width, precision, length, conversion.
_PERCENT = re.compile(r"[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.?)", re.S)
# The standard format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?([bcdeEfFgGnosxX%]?)", re.S)
_FLOATS = ("e", "E", "f", "F", "g", "G", "%", "n")
_TEXTS = ("s", "r", "a")
_FLOAT_DIGITS = 440  # the most a float writes before its precision: 309 digits, grouping


def percent_size(template: Any, values: Any) -> int:
    """At least the length of `template % values`; what Python would refuse (a missing key or
    value) ends the estimate there, and Python then refuses it itself."""
    text = template if isinstance(template, str) else bytes(template).decode("latin-1")
    positional = iter(values if isinstance(values, tuple) else (values,))
    size, position = len(text), text.find("%")
    try:
        while position != -1:
            key, position = _key(text, position + 1)
            match = _PERCENT.match(text, position)
            width, precision, kind = match.groups()
            position = text.find("%", match.end())
            if kind == "%" and key is None:
                continue
            width = next(positional) if width == "*" else int(width or 0)
            if precision is not None:
                precision = next(positional) if precision == "*" else int(precision or 0)
            value = values[key] if key is not None else next(positional)
            size += _field(value, width, precision, kind)
    except (StopIteration, LookupError, TypeError, ValueError):
        pass
    return size


def _key(text: str, position: int) -> tuple[str | None, int]:
    """The `(key)` of a `%` field at `position`, read as Python reads it (parentheses nest),
    and the position after it."""
    if not text.startswith("(", position):
        return None, position
    depth, index = 1, position + 1
    while depth:
        if index >= len(text):
            raise ValueError("incomplete format key")
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        index += 1
    return text[position + 1 : index - 1], index


def field_size(value: Any, spec: str) -> int:
    """At least the length of `format(value, spec)`."""
    match = _SPEC.fullmatch(spec)
    if match is None:  # a spec of another type's own (a date's strftime), or an error
        return size_of(value) + 16 * len(spec)
    width, precision, kind = match.groups()
    return _field(value, int(width or 0), int(precision) if precision else None, kind)


def _field(value: Any, width: Any, precision: Any, kind: str) -> int:
    """The longer of a field's width and what its value writes with this precision."""
    check_width(width)
    check_width(precision)
    digits = precision if isinstance(precision, int) else 0
    if kind == "c":
        content = 1
    elif kind in _FLOATS or (isinstance(value, float) and kind not in _TEXTS):
        content = _FLOAT_DIGITS + (6 if precision is None else digits)
    elif isinstance(value, int) and kind not in _TEXTS:
        content = max(2 * value.bit_length() + 8, digits)  # binary, with grouping
    else:
        content = size_of(value) if kind in ("", "s") else size_of((value,))
        if isinstance(precision, int) and not isinstance(value, int | float):
            content = min(content, precision)
    return max(width, content) if isinstance(width, int) else content
