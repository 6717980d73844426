"""Template compilation and the sandboxed rendering of one channel's fields (a whole message is
rendered by shared.templating.message).

Every template is compiled once per distinct source text (an LRU cache), in a Jinja2
sandbox: a template can't reach Python internals, files or the network. E-mail HTML and the
widget's content autoescape; subjects and SMS are text; header values never carry a newline.
An e-mail whose template has HTML and no text gets its text part made from the HTML.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Template, TemplateSyntaxError

from shared.infra.errors import HeraldError
from shared.templating import rules
from shared.templating.cache import COMPILED
from shared.templating.compiler import compile_template
from shared.templating.email_text import text_from_html
from shared.templating.filters import FILTERS
from shared.templating.rules import FieldRule
from shared.templating.sandbox import (
    BoundedSandbox,
    RenderTimeExceeded,
    ValueTooLarge,
    check_deadline,
    render_deadline,
)


def _blank_none(value: Any) -> Any:
    """`{{ x }}` with x null prints nothing, as in Nunjucks, not "None"."""
    return "" if value is None else value


_ENVIRONMENTS = {
    escaped: BoundedSandbox(
        autoescape=escaped, trim_blocks=False, keep_trailing_newline=True, finalize=_blank_none
    )
    for escaped in (True, False)
}
for _environment in _ENVIRONMENTS.values():
    _environment.filters.update(FILTERS)
DEFAULT_RENDER_TIME_LIMIT = 2.0
_NEWLINES = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")  # every control character


class RenderFailed(HeraldError):
    """A template that fails with this data: the message gets `template/renderFailed`. Raised
    for a whole message, it carries the language the message was being rendered in."""

    def __init__(self, message: str, language: str | None = None) -> None:
        super().__init__("template/renderFailed", message)
        self.language = language


def _compile(source: str, escaped: bool) -> Template:
    """A compiled template; cached by its text (bounded by bytes, per project and in all), so
    a changed template is compiled anew."""
    return COMPILED.get(source, escaped, lambda: compile_template(_ENVIRONMENTS[escaped], source))


def compile_templates(templates: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Compile every template of a notification; a problem is 400 `template/invalid` naming
    language, channel, field and line."""
    for language, channels in templates.items():
        for channel, fields in channels.items():
            for field, source in fields.items():
                declared = rules.fields(channel)[field]
                if not declared.templated or source is None:
                    continue
                try:
                    _compile(source, declared.escaped)
                except TemplateSyntaxError as exc:
                    raise HeraldError(
                        "template/invalid",
                        f"Template {language}.{channel}.{field}, line {exc.lineno}: "
                        f"{(exc.message or 'syntax error').rstrip('.')}.",
                    ) from None


def render_channel(
    language: str,
    channel: str,
    fields: dict[str, Any],
    context: dict[str, Any],
    parents: dict[bool, dict[str, Any]] | None = None,
) -> dict[str, str | None]:
    """Render one channel's fields (the override already applied) with this context, within
    the time limit of the enclosing `render_time_limit` block (2 s when there is none).
    `parents` keeps, for the channels of one message, the context merged with each
    environment's globals (Jinja would copy both for every field)."""
    rendered: dict[str, str | None] = {}
    declared = rules.fields(channel)
    parents = {} if parents is None else parents
    with render_deadline(DEFAULT_RENDER_TIME_LIMIT):
        for name, source in fields.items():
            field = declared.get(name)
            if source is None or field is None or not isinstance(source, str):
                rendered[name] = source if field is not None else None  # push's data: as is
                continue
            text = str(source)
            if field.templated:
                label = f"{language}.{channel}.{name}"
                text = _render_field(label, field, _compile(text, field.escaped), context, parents)
            if field.header:
                text = _NEWLINES.sub(" ", text).strip()
            rendered[name] = text
        for field in rules.made(channel):
            html = rendered.get(field.made_from)
            if rendered.get(field.name) is None and html:
                rendered[field.name] = _text_part(f"{language}.{channel}.{field.name}", field, html)
    return rendered


render_time_limit = render_deadline  # the block that bounds all the fields of one message


def _text_part(label: str, field: FieldRule, html: str) -> str:
    """The text part made from the rendered HTML, within the same size and time limits."""
    try:
        text = text_from_html(html)
    except RenderTimeExceeded as exc:
        raise RenderFailed(
            f"Template {label} (made from the HTML) stopped: the message's rendering took "
            f"longer than its time limit of {exc.limit:g} s."
        ) from None
    limit = field.limit
    size = len(text.encode()) if limit.unit == "bytes" else len(text)
    if size > limit.most:
        raise RenderFailed(
            f"Template {label} (made from the HTML) is past its size limit of "
            f"{limit.most:,} {limit.unit}."
        )
    return text


def _render_field(
    label: str,
    field: FieldRule,
    template: Template,
    context: dict[str, Any],
    parents: dict[bool, dict[str, Any]],
) -> str:
    """Stream the render and stop as soon as it is past its size limit or the deadline."""
    limit, unit = field.limit.most, field.limit.unit
    size, parts = 0, []
    parent = parents.get(field.escaped)
    if parent is None:  # what `Template.generate` builds, once a message (never changed)
        parent = parents[field.escaped] = {**template.globals, **context}
    try:
        for chunk in template.root_render_func(template.new_context(parent, shared=True)):
            size += len(chunk.encode()) if unit == "bytes" else len(chunk)
            if size > limit:
                raise RenderFailed(
                    f"Template {label} renders past its size limit of {limit:,} {unit}."
                )
            check_deadline()
            parts.append(chunk)
    except RenderFailed:
        raise
    except RenderTimeExceeded as exc:
        raise RenderFailed(
            f"Template {label} stopped: the message's rendering took longer than "
            f"its time limit of {exc.limit:g} s."
        ) from None
    except ValueTooLarge as exc:
        raise RenderFailed(f"Template {label} stopped: {exc}.") from None
    except MemoryError:
        raise  # the render process's limit: it says so and is replaced
    except Exception as exc:  # noqa: BLE001 - any failure of user code in the sandbox
        raise RenderFailed(
            f"Template {label} failed with this data: {type(exc).__name__}: {exc}"
        ) from None
    return "".join(parts)
