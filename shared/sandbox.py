"""The bounded Jinja2 sandbox: no operation of a template builds a huge value or runs past
the render deadline.

Python builds a value in one C call (`"a" * 10**9`, `"x".center(10**9)`), which no deadline can
interrupt, so every operation that can multiply a size is checked before it runs: the `*`,
`**`, `+` and `%` operators, string methods with a width, and the filters of the same kind.
Loops, calls, attribute reads and `~` check the deadline of the render in progress, so a
nested loop stops at the time limit.
"""

from __future__ import annotations

import contextvars
import re
import string
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import filters, nodes, pass_eval_context
from jinja2.compiler import CodeGenerator
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

MAX_VALUE = 1 << 20  # characters of a string, items of a list, built by one operation
MAX_INT_BITS = 16_384  # about 4,900 decimal digits
MAX_WIDTH = 10_000  # padding widths: center, ljust, indent, format specs

_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "render_deadline", default=None
)


class ValueTooLarge(Exception):
    """An operation of a template would build a value past the sandbox's bounds."""


class RenderTimeExceeded(Exception):
    """The render in progress ran past its time limit."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"rendering took longer than the limit of {limit:g} s")
        self.limit = limit


@contextmanager
def render_deadline(seconds: float) -> Iterator[None]:
    """Bound every render inside this block (one message's fields) to `seconds` in all."""
    if _deadline.get() is not None:  # an outer block already bounds this render
        yield
        return
    token = _deadline.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_deadline() -> None:
    """Raise RenderTimeExceeded once the render in progress is past its deadline."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline[0]:
        raise RenderTimeExceeded(deadline[1])


def _refuse(what: str, limit: int = MAX_VALUE) -> ValueTooLarge:
    return ValueTooLarge(f"{what} is over the sandbox's limit of {limit:,}")


def _size(value: Any) -> int | None:
    """The length of a string, list or tuple; None for other values."""
    return len(value) if isinstance(value, str | list | tuple) else None


def _check_width(width: Any) -> None:
    if isinstance(width, int) and width > MAX_WIDTH:
        raise _refuse(f"a width of {width:,}", MAX_WIDTH)


def _check_int(value: Any) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _refuse("a number's size in bits", MAX_INT_BITS)


_FORMAT_WIDTH = re.compile(r"\d+")


def check_format_string(template: str) -> None:
    """Refuse `%`-style or `{}`-style widths and precisions past MAX_WIDTH, and `*` widths."""
    for match in re.finditer(r"%[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?", template):
        if "*" in match.group(0):
            raise _refuse("a `*` width in a format string")
        for number in _FORMAT_WIDTH.findall(match.group(0)):
            _check_width(int(number))
    if "{" not in template:
        return
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return  # str.format raises the same error when it runs
    for _, _, spec, _ in parts:
        if spec and "{" in spec:
            raise _refuse("a nested width in a format string")
        for number in _FORMAT_WIDTH.findall(spec or ""):
            _check_width(int(number))


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `+` and `%` when their result would be past the bounds."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "*":
        sized, times = (left, right) if _size(left) is not None else (right, left)
        if _size(sized) is not None and isinstance(times, int):
            if _size(sized) * max(times, 0) > MAX_VALUE:
                raise _refuse(f"a value of {_size(sized):,} × {times:,} items or characters")
        elif ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _refuse("a product's size in bits", MAX_INT_BITS)
    elif operator == "**":
        if ints and abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_INT_BITS:
            raise _refuse(f"the size in bits of {left} ** {right}", MAX_INT_BITS)
    elif operator == "+":
        sizes = (_size(left), _size(right))
        if None not in sizes and sum(sizes) > MAX_VALUE:
            raise _refuse("a sum of two values")
    elif operator == "%" and isinstance(left, str):
        check_format_string(left)


# str methods that pad to a width taken from their first argument.
_PADDING = {"center", "ljust", "rjust", "zfill", "expandtabs"}


def check_method(obj: Any, args: tuple, kwargs: dict) -> None:
    """Refuse calls of str methods whose result would be past the bounds."""
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    if not isinstance(owner, str):
        return
    if name in _PADDING:
        for value in (*args[:1], *kwargs.values()):
            _check_width(value)
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = owner.count(args[0]) if args[0] else len(owner) + 1
        if len(owner) + count * len(args[1]) > MAX_VALUE:
            raise _refuse("the result of replace")
    elif name == "join" and args and isinstance(args[0], list | tuple):
        if len(owner) * len(args[0]) + sum(len(str(a)) for a in args[0]) > MAX_VALUE:
            raise _refuse("the result of join")
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        if len(owner) * longest > MAX_VALUE:
            raise _refuse("the result of translate")


def _bounded_center(value: str, width: int = 80) -> str:
    _check_width(width)
    return filters.do_center(value, width)


def _bounded_indent(value: str, width: int | str = 4, first: bool = False, blank: bool = False):
    _check_width(width if isinstance(width, int) else len(width))
    if len(str(value)) * (width if isinstance(width, int) else len(width)) > MAX_VALUE:
        raise _refuse("the result of indent")
    return filters.do_indent(value, width, first, blank)


def _bounded_format(value: str, *args: Any, **kwargs: Any) -> str:
    check_format_string(str(value))
    return filters.do_format(value, *args, **kwargs)


def _bounded_batch(value: Iterable, linecount: int, fill_with: Any = None):
    _check_width(linecount)
    return filters.do_batch(value, linecount, fill_with)


def _bounded_slice(value: Iterable, slices: int, fill_with: Any = None):
    _check_width(slices)
    return filters.do_slice(value, slices, fill_with)


@pass_eval_context
def _bounded_replace(eval_ctx, value: str, old: str, new: str, count: int | None = None):
    check_method(str(value).replace, (str(old), str(new)), {})
    return filters.do_replace(eval_ctx, value, old, new, count)


@pass_eval_context
def _bounded_join(eval_ctx, value: Iterable, d: str = "", attribute: Any = None):
    value = list(value)
    check_method(str(d).join, (value,), {})
    return filters.do_join(eval_ctx, value, d, attribute)


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    if n * max > MAX_WIDTH:
        raise _refuse(f"lipsum of {n} paragraphs of up to {max} words", MAX_WIDTH)
    return generate_lorem_ipsum(n, html, min, max)


# Jinja's filters whose result has a size their arguments choose, replaced by bounded ones.
BOUNDED_FILTERS = {
    "center": _bounded_center,
    "indent": _bounded_indent,
    "format": _bounded_format,
    "batch": _bounded_batch,
    "slice": _bounded_slice,
    "replace": _bounded_replace,
    "join": _bounded_join,
}


def constant_range(*args: int) -> range:
    """`range` with the sandbox's bound, for compile-time checks and for templates alike."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise _refuse(f"a range of {len(numbers):,} items", MAX_RANGE)
    return numbers


def iterate(iterable: Any) -> Iterator[Any]:
    """A `for` loop's items, with a deadline check before each (see `bound_loops`)."""
    for item in iterable:
        check_deadline()
        yield item


def bound_loops(tree: nodes.Template) -> None:
    """Make every `for` loop of a parsed template iterate through `iterate`."""
    for loop in tree.find_all(nodes.For):
        bounded = nodes.ImportedName(f"{__name__}.iterate", lineno=loop.lineno)
        loop.iter = nodes.Call(bounded, [loop.iter], [], None, None, lineno=loop.lineno)


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with `~` going through the environment's check."""

    def visit_Concat(self, node: nodes.Concat, frame) -> None:  # noqa: N802 - Jinja's name
        self.write("environment.concat(context.eval_ctx.autoescape, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment whose operations are bounded in size and time."""

    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.update(range=constant_range, lipsum=_bounded_lipsum)
        self.filters.update(BOUNDED_FILTERS)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        """Check the size first: `*` and `**` build their result in one step."""
        check_deadline()
        check_binop(operator, left, right)
        result = self.binop_table[operator](left, right)
        _check_int(result)
        return result

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Every call of a template (functions, methods, macros) checks the deadline."""
        check_deadline()
        check_method(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Attribute reads check the deadline too."""
        check_deadline()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Item reads check the deadline too."""
        check_deadline()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any):
        """`str.format` refuses widths past the bound before it pads."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def bounded(*args: Any, **kwargs: Any) -> str:
            check_format_string(value.__self__)
            return wrapped(*args, **kwargs)

        return bounded

    def concat(self, autoescape: bool, parts: tuple) -> str:
        """`a ~ b`: refused past the bound, else joined as Jinja joins it."""
        check_deadline()
        if sum(len(part) for part in parts if isinstance(part, str)) > MAX_VALUE:
            raise _refuse("a `~` concatenation")
        return (markup_join if autoescape else str_join)(parts)
