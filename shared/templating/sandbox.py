"""The bounded Jinja2 sandbox: no operation of a template builds a huge value or runs past
the render deadline.

Python builds a value in one C call (`"a" * 10**9`, `"x".center(10**9)`), which no deadline can
interrupt, so every operation that can multiply a size is checked before it runs: the `*`,
`**`, `+` and `%` operators, string methods with a width, and the filters of the same kind.
Loops, calls, attribute reads and `~` check the deadline of the render in progress, so a
nested loop stops at the time limit. A list, tuple or dict a template builds (a literal, an
operator, a call, `append`) may hold at most MAX_VALUE items counted at every depth, since
printing `[b] * 1000` writes all that `b` holds a thousand times (`shared.templating.values`).
"""

from __future__ import annotations

import contextvars
import re
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

from shared.templating.undefined import LenientUndefined
from shared.templating.values import held_items

MAX_VALUE = 1 << 20  # characters of a string, items of a list, built by one operation
MAX_INT_BITS = 16_384  # about 4,900 decimal digits
MAX_WIDTH = 10_000  # padding widths: center, ljust, indent, format specs
_FORMAT_WIDTH = re.compile(r"\d+")

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


def refuse(what: str, limit: int = MAX_VALUE) -> ValueTooLarge:
    return ValueTooLarge(f"{what} is over the sandbox's limit of {limit:,}")


def _size(value: Any) -> int | None:
    """The length of a string, list or tuple; None for other values."""
    return len(value) if isinstance(value, str | list | tuple) else None


def check_width(width: Any) -> None:
    if isinstance(width, int) and width > MAX_WIDTH:
        raise refuse(f"a width of {width:,}", MAX_WIDTH)


def _check_int(value: Any) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise refuse("a number's size in bits", MAX_INT_BITS)


def check_format_string(template: str) -> None:
    """Refuse `%`-style or `{}`-style widths and precisions past MAX_WIDTH, and `*` widths."""
    for match in re.finditer(r"%[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?", template):
        if "*" in match.group(0):
            raise refuse("a `*` width in a format string")
        for number in _FORMAT_WIDTH.findall(match.group(0)):
            check_width(int(number))
    if "{" not in template:
        return
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return  # str.format raises the same error when it runs
    for _, _, spec, _ in parts:
        if spec and "{" in spec:
            raise refuse("a nested width in a format string")
        for number in _FORMAT_WIDTH.findall(spec or ""):
            check_width(int(number))


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `+` and `%` when their result would be past the bounds."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "*":
        sized, times = (left, right) if _size(left) is not None else (right, left)
        if _size(sized) is not None and isinstance(times, int):
            if _size(sized) * max(times, 0) > MAX_VALUE:
                raise refuse(f"a value of {_size(sized):,} × {times:,} items or characters")
        elif ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise refuse("a product's size in bits", MAX_INT_BITS)
    elif operator == "**":
        if ints and abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_INT_BITS:
            raise refuse(f"the size in bits of {left} ** {right}", MAX_INT_BITS)
    elif operator == "+":
        sizes = (_size(left), _size(right))
        if None not in sizes and sum(sizes) > MAX_VALUE:
            raise refuse("a sum of two values")
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
            check_width(value)
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = owner.count(args[0]) if args[0] else len(owner) + 1
        if len(owner) + count * len(args[1]) > MAX_VALUE:
            raise refuse("the result of replace")
    elif name == "join" and args and isinstance(args[0], list | tuple):
        if len(owner) * len(args[0]) + sum(len(str(a)) for a in args[0]) > MAX_VALUE:
            raise refuse("the result of join")
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        if len(owner) * longest > MAX_VALUE:
            raise refuse("the result of translate")


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    if n * max > MAX_WIDTH:
        raise refuse(f"lipsum of {n} paragraphs of up to {max} words", MAX_WIDTH)
    return generate_lorem_ipsum(n, html, min, max)


def check_held(value: Any) -> Any:
    """The value, unless it holds more than MAX_VALUE items counted at every depth."""
    if held_items(value, MAX_VALUE, check_deadline) > MAX_VALUE:
        raise refuse("the items a list or dict holds at every depth")
    return value


def constant_range(*args: int) -> range:
    """`range` with the sandbox's bound, for compile-time checks and for templates alike."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise refuse(f"a range of {len(numbers):,} items", MAX_RANGE)
    return numbers


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with `~` and list, tuple and dict literals going through the
    environment's checks."""

    def _held(self, visit, node: nodes.Expr, frame) -> None:
        if getattr(node, "ctx", "load") != "load":  # an assignment's target, not a value
            return visit(node, frame)
        self.write("environment.check_held(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame) -> None:  # noqa: N802 - Jinja's names
        self._held(super().visit_List, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame) -> None:  # noqa: N802
        self._held(super().visit_Tuple, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame) -> None:  # noqa: N802
        self._held(super().visit_Dict, node, frame)

    def visit_Concat(self, node: nodes.Concat, frame) -> None:  # noqa: N802 - Jinja's name
        self.write("environment.concat(context.eval_ctx.autoescape, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment bounded in size and time; undefined names render as nothing,
    and an unsafe attribute fails the render. Its filters of a size their arguments choose
    are replaced by `shared.templating.filters.FILTERS`."""

    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    check_held = staticmethod(check_held)  # called by the code of literals, see above

    def __init__(self, **options: Any) -> None:
        super().__init__(**{"undefined": LenientUndefined, **options})
        self.globals.update(range=constant_range, lipsum=_bounded_lipsum)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        """An unsafe attribute fails the render at once, where Jinja returns an undefined
        value that prints as nothing."""
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        """Check the size first: `*` and `**` build their result in one step."""
        check_deadline()
        check_binop(operator, left, right)
        result = self.binop_table[operator](left, right)
        _check_int(result)
        return self.check_held(result)

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Every call of a template (functions, methods, macros) checks the deadline."""
        check_deadline()
        check_method(__obj, args, kwargs)
        result = __self.check_held(super().call(__context, __obj, *args, **kwargs))
        __self.check_held(getattr(__obj, "__self__", None))  # after `list.append` and the like
        return result

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
            raise refuse("a `~` concatenation")
        return (markup_join if autoescape else str_join)(parts)
