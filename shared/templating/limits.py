"""The sandbox's bounds: how large a value one operation of a template may build, how long a
render may run, and the errors that say which bound a template reached.

A value's size is the characters it prints as (`shared.templating.values`): a string's length,
a list's or dict's items through their nesting. Every operation that can build a value in one
C call estimates that size from its inputs and is refused past MAX_VALUE before it runs.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from shared.templating.values import printed_size

MAX_VALUE = 1 << 20  # characters one value prints as, whether a string or a list of lists
MAX_INT_BITS = 16_384  # about 4,900 decimal digits
MAX_WIDTH = 10_000  # one padding width or precision: center, ljust, indent, format specs
MAX_WORK = 100_000  # items or characters of an operation slow per item (sort, wordwrap)
_NUMBERS = {int, float, bool, type(None)}
HELD = "the items a list or dict holds at every depth, printed,"


@dataclass
class _Render:
    """The render in progress: its deadline, and what it added to its lists and dicts."""

    deadline: float
    limit: float
    grown: int = 0


_render: contextvars.ContextVar[_Render | None] = contextvars.ContextVar("render", default=None)


class ValueTooLarge(Exception):
    """An operation of a template would build a value past the sandbox's bounds."""


class RenderTimeExceeded(Exception):
    """The render in progress ran past its time limit."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"rendering took longer than the limit of {limit:g} s")
        self.limit = limit


@contextmanager
def render_deadline(seconds: float) -> Iterator[None]:
    """Bound every render inside this block (one message's fields) to `seconds` in all, and
    what it adds to lists and dicts to MAX_VALUE in all."""
    if _render.get() is not None:  # an outer block already bounds this render
        yield
        return
    token = _render.set(_Render(time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _render.reset(token)


def check_deadline() -> None:
    """Raise RenderTimeExceeded once the render in progress is past its deadline."""
    render = _render.get()
    if render is not None and time.monotonic() > render.deadline:
        raise RenderTimeExceeded(render.limit)


def check_growth(size: int) -> None:
    """Count what the render in progress adds to its lists, dicts and sets (`append` and the
    like), refused past MAX_VALUE in all: a list it keeps growing holds all of it at once."""
    render = _render.get()
    if render is not None:
        render.grown += size
        if render.grown > MAX_VALUE:
            raise refuse("what a template adds to its lists and dicts")


def refuse(what: str, limit: int = MAX_VALUE) -> ValueTooLarge:
    """The error for `what`, past `limit`."""
    return ValueTooLarge(f"{what} is over the sandbox's limit of {limit:,}")


def check_size(what: str, size: int) -> None:
    """Refuse an operation whose result would print as more than MAX_VALUE characters."""
    if size > MAX_VALUE:
        raise refuse(f"{what} ({size:,} characters)")


def check_width(width: Any) -> None:
    """Refuse one width or precision past MAX_WIDTH."""
    if isinstance(width, int) and width > MAX_WIDTH:
        raise refuse(f"a width of {width:,}", MAX_WIDTH)


def check_work(what: str, amount: int) -> None:
    """Refuse an operation slow per item given more than MAX_WORK items or characters."""
    if amount > MAX_WORK:
        raise refuse(f"{what} of {amount:,} items or characters", MAX_WORK)


def check_int(value: Any) -> None:
    """Refuse an integer of more than MAX_INT_BITS bits."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise refuse("a number's size in bits", MAX_INT_BITS)


def size_of(value: Any, limit: int = MAX_VALUE) -> int:
    """The characters `value` prints as, or a number past `limit` once it is past."""
    if type(value) is str:
        return len(value)
    return printed_size(value, limit, check_deadline)


def check_printed(value: Any) -> Any:
    """The value, unless it prints as more than MAX_VALUE characters."""
    kind = type(value)
    if kind in _NUMBERS:  # the common cases, at once: a number is at most MAX_INT_BITS
        return value
    size = len(value) if kind is str or isinstance(value, str) else size_of(value)
    if size > MAX_VALUE:
        if isinstance(value, str | bytes):
            raise refuse(f"a text of {size:,} characters")
        raise refuse(HELD)
    return value


def check_result(value: Any) -> Any:
    """The value an operation built, unless it is past a bound."""
    if isinstance(value, int):
        check_int(value)
        return value
    return check_printed(value)
