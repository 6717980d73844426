"""Template compilation, language choice, the template context and sandboxed rendering.

Every template is compiled once per distinct source text (an LRU cache), in a Jinja2
sandbox: a template can't reach Python internals, files or the network. E-mail HTML and the
widget's content autoescape; subjects and SMS are text; header values never carry a newline.
An e-mail whose template has HTML and no text gets its text part made from the HTML.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import Template, TemplateSyntaxError

from shared.channels import Channel, TemplateField
from shared.infra.errors import HeraldError
from shared.templating.compiler import compile_template
from shared.templating.email_text import text_from_html
from shared.templating.filters import FILTERS
from shared.templating.sandbox import (
    BoundedSandbox,
    RenderTimeExceeded,
    ValueTooLarge,
    check_deadline,
    render_deadline,
)

# channel -> field name -> its declaration (shared.channels): templated or literal, autoescaped,
# a header, its size limit.
FIELDS: dict[str, dict[str, TemplateField]] = {
    channel: {field.name: field for field in channel.fields} for channel in Channel
}
# channel -> the fields made from another when the template has none (e-mail text from HTML).
MADE: dict[str, tuple[TemplateField, ...]] = {
    channel: tuple(field for field in channel.fields if field.made_from) for channel in Channel
}


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
    """A template that fails with this data: the message gets `template/renderFailed`."""

    def __init__(self, message: str) -> None:
        super().__init__("template/renderFailed", message)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, escaped: bool) -> Template:
    """A compiled template; cached by its text, so a changed template is compiled anew."""
    return compile_template(_ENVIRONMENTS[escaped], source)


def compile_templates(templates: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Compile every template of a notification; a problem is 400 `template/invalid` naming
    language, channel, field and line."""
    for language, channels in templates.items():
        for channel, fields in channels.items():
            for field, source in fields.items():
                declared = FIELDS[channel][field]
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


def pick_language(available: dict[str, Any], wanted: str | None, default: str) -> str:
    """The user's language, then its base language (`pt-BR` -> `pt`), then the default."""
    if wanted:
        if wanted in available:
            return wanted
        base = wanted.split("-", 1)[0]
        if base in available:
            return base
    return default


def pick_channel_languages(
    templates: dict[str, dict[str, Any]], wanted: str | None, default: str, channels: list[str]
) -> tuple[str, dict[str, str]]:
    """The message's language, and the language each channel's template is taken from: the
    message's, unless its templates lack that channel (then the same fallback among those
    that have it)."""
    language = pick_language(templates, wanted, default)
    by_channel = {}
    for channel in channels:
        if channel in templates.get(language, {}):
            by_channel[channel] = language
        else:
            having = {name: t for name, t in templates.items() if channel in t}
            by_channel[channel] = pick_language(having, wanted, default)
    return language, by_channel


def build_context(
    profile: dict[str, Any],
    user_data: dict[str, Any],
    data: dict[str, Any],
    increment: int,
    message_id: str,
    notification: dict[str, str],
) -> dict[str, Any]:
    """The template context: profile at top level and under `user`, then `data` on top.

    Empty profile fields are left out, so `{{ firstName }}` renders as nothing, not "None".
    """
    profile = {name: value for name, value in profile.items() if value is not None}
    user = {**profile, "data": user_data}
    return {
        **profile,
        "user": user,
        **data,
        "increment": increment,
        "messageId": message_id,
        "notification": notification,
    }


def render_channel(
    language: str, channel: str, fields: dict[str, Any], context: dict[str, Any]
) -> dict[str, str | None]:
    """Render one channel's fields (the override already applied) with this context, within
    the time limit of the enclosing `render_time_limit` block (2 s when there is none)."""
    rendered: dict[str, str | None] = {}
    declared = FIELDS[channel]
    with render_deadline(DEFAULT_RENDER_TIME_LIMIT):
        for name, source in fields.items():
            field = declared.get(name)
            if source is None or field is None:
                rendered[name] = None
                continue
            text = str(source)
            if field.templated:
                text = _render_field(f"{language}.{channel}.{name}", field, text, context)
            if field.header:
                text = _NEWLINES.sub(" ", text).strip()
            rendered[name] = text
        for field in MADE[channel]:
            html = rendered.get(field.made_from)
            if rendered.get(field.name) is None and html:
                rendered[field.name] = _text_part(f"{language}.{channel}.{field.name}", field, html)
    return rendered


render_time_limit = render_deadline  # the block that bounds all the fields of one message


def render_message(
    templates: dict[str, dict[str, Any]],
    languages: dict[str, str],
    context: dict[str, Any],
    overrides: dict[str, dict[str, Any] | None],
) -> dict[str, dict[str, str | None]]:
    """Render each channel in its language, the message's overrides applied."""
    rendered = {}
    for channel, language in languages.items():
        template = templates.get(language, {}).get(channel, {})
        fields = {**template, **(overrides.get(channel) or {})}
        rendered[channel] = render_channel(language, channel, fields, context)
    return rendered


def _text_part(label: str, field: TemplateField, html: str) -> str:
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


def _render_field(label: str, field: TemplateField, source: str, context: dict[str, Any]) -> str:
    """Stream the render and stop as soon as it is past its size limit or the deadline."""
    limit, unit = field.limit.most, field.limit.unit
    size, parts = 0, []
    try:
        for chunk in _compile(source, field.escaped).generate(context):
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
    except Exception as exc:  # noqa: BLE001 - any failure of user code in the sandbox
        raise RenderFailed(
            f"Template {label} failed with this data: {type(exc).__name__}: {exc}"
        ) from None
    return "".join(parts)
