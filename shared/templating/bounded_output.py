"""Filters that write their result within the bound as they go, in place of Jinja's: JSON
(`tojson`, and `dump` in `shared.templating.filters`), `pprint`, `sum`, `list`, `wordcount`."""

from __future__ import annotations

import io
import json
import pprint
import re
from collections.abc import Callable
from typing import Any

from jinja2 import filters as jinja
from jinja2.utils import pass_environment, pass_eval_context
from markupsafe import Markup

from shared.templating.limits import (
    MAX_VALUE,
    check_deadline,
    check_size,
    check_width,
    size_of,
)
from shared.templating.sizes import bounded_list

_WORD = re.compile(r"\w+")  # Jinja's word, for wordcount
_HTML_UNSAFE = "<>&'"  # what tojson writes as \u escapes


def json_text(value: Any, **options: Any) -> str:
    """`json.dumps(value, **options)`, refused as soon as it is past the bound: a value that
    may write more (a character can take 12, `\\ud83d\\ude00`) is written one item at a time."""
    if options.get("indent") is None and size_of(value, MAX_VALUE // 12) * 12 <= MAX_VALUE:
        return json.dumps(value, **options)
    size, chunks = 0, []
    for chunk in json.JSONEncoder(**options).iterencode(value):
        size += len(chunk)
        check_size("the JSON of a value", size)
        chunks.append(chunk)
        if len(chunks) % 1024 == 0:
            check_deadline()
    return "".join(chunks)


@pass_eval_context
def tojson(eval_ctx: Any, value: Any, indent: Any = None) -> Markup:
    """Jinja's `tojson` (JSON safe in HTML), written within the bound."""
    check_width(indent if isinstance(indent, int) else len(str(indent or "")))
    options = dict(eval_ctx.environment.policies["json.dumps_kwargs"])
    if indent is not None:
        options["indent"] = indent
    text = json_text(value, **options)
    check_size("the result of tojson", len(text) + 5 * sum(map(text.count, _HTML_UNSAFE)))
    for character in _HTML_UNSAFE:
        text = text.replace(character, f"\\u{ord(character):04x}")
    return Markup(text)


class _Printer(pprint.PrettyPrinter):
    """pprint's printer, checking the deadline as it formats values."""

    formatted = 0

    def format(self, obj: Any, context: dict, maxlevels: int, level: int) -> tuple:
        self.formatted += 1
        if self.formatted % 256 == 0:
            check_deadline()
        return super().format(obj, context, maxlevels, level)


class _Bounded(io.StringIO):
    """A text stream refused once it would hold more than MAX_VALUE characters."""

    def write(self, text: str) -> int:
        check_size("the result of pprint", self.tell() + len(text))
        return super().write(text)


def pretty(value: Any) -> str:
    """Jinja's `pprint`, written within the bound and the deadline."""
    stream = _Bounded()
    _Printer(stream=stream).pprint(value)
    return stream.getvalue()[:-1]  # pprint ends with a line break that pformat leaves out


@pass_environment
def total(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    """Jinja's `sum`; lists or tuples are added into one list that grows within the bound
    (Python's `sum` copies the total at each step: quadratic in one C call)."""
    if attribute is not None:
        iterable = map(jinja.make_attrgetter(environment, attribute), iterable)
    if not isinstance(start, list | tuple):
        return sum(iterable, start)
    items, size = list(start), size_of(start)
    for item in iterable:
        check_deadline()
        if not isinstance(item, type(start)):
            return type(start)(items) + item  # Python's own error for list + tuple
        size += size_of(item, MAX_VALUE - size)
        check_size("the result of sum", size)
        items.extend(item)
    return items if isinstance(start, list) else tuple(items)


def wordcount(s: Any) -> int:
    """Jinja's `wordcount`, counting without a list of every word."""
    return sum(1 for _ in _WORD.finditer(s if isinstance(s, str) else str(s)))


# Jinja's filters replaced by ones that build within the bound as they go.
REPLACED: dict[str, Callable] = {
    "list": bounded_list,
    "sum": total,
    "tojson": tojson,
    "pprint": pretty,
    "wordcount": wordcount,
}
