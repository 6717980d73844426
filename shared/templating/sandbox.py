"""The bounded Jinja2 sandbox: no operation of a template builds a huge value or runs past
the render deadline, and a refusal of the sandbox fails the render.

Python builds a value in one C call (`"a" * 10**9`, `"x".center(10**9)`, `str([b] * 1000)`),
which no deadline can interrupt, so every operation that can build one estimates its result
from its inputs first and is refused past the bounds (`shared.templating.limits`): the `*`,
`**`, `+` and `%` operators and the methods of strings, bytes, integers and lists
(`shared.templating.sizes`), each field of `str.format` with the sum of all of them
(`shared.templating.formats`), `~`, printing, the lists, tuples and dicts a template writes,
and the output a macro or a block collects; the filters are bounded the same way
(`shared.templating.bounded_filters`). Loops, calls, attribute reads and `~` check the
deadline of the render in progress, so a nested loop stops at the time limit.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, operators
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import (
    MAX_RANGE,
    SandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from jinja2.utils import generate_lorem_ipsum
from markupsafe import Markup

from shared.templating.formats import field_size
from shared.templating.limits import (
    MAX_VALUE,
    MAX_WIDTH,
    RenderTimeExceeded,
    ValueTooLarge,
    check_deadline,
    check_growth,
    check_int,
    check_printed,
    check_result,
    check_size,
    refuse,
    render_deadline,
    size_of,
)
from shared.templating.sizes import added_size, check_binop, prepare_call
from shared.templating.undefined import LenientUndefined

# The rendering code imports the bounds' errors and the deadline from here too.
__all__ = [
    "BoundedSandbox",
    "RenderTimeExceeded",
    "ValueTooLarge",
    "check_deadline",
    "render_deadline",
]
_FORMATS = ("format", "format_map")
# Methods that make their list, dict or set hold more: what they add is counted.
_GROWING = {"append", "extend", "insert", "update", "setdefault", "add"}
# Tests that compare their two values, in one C call as long as the values are.
_COMPARING = {
    "eq", "==", "equalto", "ne", "!=", "lt", "<", "lessthan", "le", "<=", "gt", ">",
    "greaterthan", "ge", ">=", "in",
}  # fmt: skip


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    if n * max > MAX_WIDTH:
        raise refuse(f"lipsum of {n} paragraphs of up to {max} words", MAX_WIDTH)
    return generate_lorem_ipsum(n, html, min, max)


def constant_range(*args: int) -> range:
    """`range` with the sandbox's bound, for compile-time checks and for templates alike."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise refuse(f"a range of {len(numbers):,} items", MAX_RANGE)
    return numbers


class BoundedBuffer(list):
    """The output a macro, a `{% set %}` or `{% filter %}` block or a recursive loop collects
    before it is joined: refused as soon as its parts are past the bound."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def _add(self, size: int) -> None:
        self.size += size
        check_size("the output of a macro or block", self.size)

    def append(self, part: Any) -> None:
        self._add(len(part) if isinstance(part, str) else 0)
        super().append(part)

    def extend(self, parts: Any) -> None:
        parts = tuple(parts)
        self._add(sum(len(part) for part in parts if isinstance(part, str)))
        super().extend(parts)


class BoundedFormatter(SandboxedFormatter):
    """Jinja's sandboxed `str.format`, refused before a field when the fields so far and the
    format's own text would be past the bound."""

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.size = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:  # `!r`, `!s`, `!a` print the value first
            check_printed(value)
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_deadline()
        self.size += field_size(value, format_spec)
        check_size("the result of format", self.size)
        return super().format_field(value, format_spec)


class BoundedEscapeFormatter(BoundedFormatter, SandboxedEscapeFormatter):
    """`Markup.format`, escaping its fields, bounded the same way."""


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with `~`, comparisons, list, tuple and dict literals and the
    buffers of macros and blocks going through the environment's checks."""

    def _held(self, visit, node: nodes.Expr, frame) -> None:
        if getattr(node, "ctx", "load") != "load":  # an assignment's target, not a value
            return visit(node, frame)
        self.write("environment.check_printed(")
        visit(node, frame)
        self.write(")")

    def visit_Compare(self, node: nodes.Compare, frame) -> None:  # noqa: N802
        """Comparisons measure their operands: comparing two long lists is one C call."""
        self.write("(")
        self._held(self.visit, node.expr, frame)
        for operand in node.ops:
            self.write(f" {operators[operand.op]} ")
            self._held(self.visit, operand.expr, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame) -> None:  # noqa: N802 - Jinja's names
        self._held(super().visit_List, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame) -> None:  # noqa: N802
        self._held(super().visit_Tuple, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame) -> None:  # noqa: N802
        self._held(super().visit_Dict, node, frame)

    def visit_Concat(self, node: nodes.Concat, frame) -> None:  # noqa: N802 - Jinja's name
        self.write("environment.concat_values(context.eval_ctx.autoescape, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")

    def buffer(self, frame) -> None:
        """A macro's or a block's output collects in a BoundedBuffer."""
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")


def _measuring(test: Any) -> Any:
    """A test that compares two values, after the check that each prints within the bound."""

    def measured(value: Any, other: Any) -> bool:
        return test(check_printed(value), check_printed(other))

    return measured


def _printing(finalize: Any) -> Any:
    """`finalize` (a plain function, or None) after the check that the value prints within
    the bound: `{{ [b] * 1000 }}` writes all of it in one call."""

    def bounded_finalize(value: Any) -> Any:
        check_printed(value)
        return value if finalize is None else finalize(value)

    return bounded_finalize


class BoundedSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment bounded in size and time; undefined names render as nothing,
    and an unsafe attribute fails the render. Its filters are bounded when
    `shared.templating.filters.FILTERS` is installed in them."""

    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    check_printed = staticmethod(check_printed)  # called by the generated code, see above
    new_buffer = BoundedBuffer

    def __init__(self, **options: Any) -> None:
        finalize = _printing(options.pop("finalize", None))
        super().__init__(**{"undefined": LenientUndefined, **options}, finalize=finalize)
        self.globals.update(range=constant_range, lipsum=_bounded_lipsum)
        self.tests.update({name: _measuring(self.tests[name]) for name in _COMPARING})

    def concat(self, parts: Any) -> str:
        """Jinja's join of output (a block, a macro, a render): refused past the bound as its
        parts come."""
        if isinstance(parts, BoundedBuffer):  # measured as it was filled
            return "".join(parts)
        buffer = BoundedBuffer()
        for part in parts:
            buffer.append(part)
        return "".join(buffer)

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
        check_int(result)
        return result

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Every call of a template (functions, methods, macros) checks the deadline, and
        the size of what it builds before it builds it."""
        check_deadline()
        args = prepare_call(__obj, args, kwargs)
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, list | dict | set) and name in _GROWING:
            check_growth(added_size(name, args, kwargs))
        return check_result(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Attribute reads check the deadline too."""
        check_deadline()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Item reads check the deadline too."""
        check_deadline()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any):
        """`str.format` and `format_map` with the bounded formatter (Jinja's own, bounded)."""
        owner = getattr(value, "__self__", None)
        if not isinstance(owner, str) or getattr(value, "__name__", "") not in _FORMATS:
            return None
        if isinstance(owner, Markup):
            formatter = BoundedEscapeFormatter(self, escape=owner.escape)
        else:
            formatter = BoundedFormatter(self)
        mapping = value.__name__ == "format_map"

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            if mapping:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return type(owner)(formatter.vformat(owner, args, kwargs))

        return bounded_format

    def concat_values(self, autoescape: bool, parts: tuple) -> str:
        """`a ~ b`: refused past the bound, else joined as Jinja joins it."""
        check_deadline()
        size = 0
        for part in parts:
            size += size_of(part, MAX_VALUE - size)
            check_size("a `~` concatenation", size)
        return (markup_join if autoescape else str_join)(parts)
