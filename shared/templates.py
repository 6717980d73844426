"""Template compilation, language choice, the template context and sandboxed rendering.

Every template is compiled once per distinct source text (an LRU cache), in a Jinja2
sandbox: a template can't reach Python internals, files or the network. E-mail HTML and the
widget's content autoescape; subjects and SMS are text; header values never carry a newline.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from shared.errors import HeraldError

# channel -> field -> (templated, autoescaped). Fields not templated are literal header values.
CHANNEL_FIELDS: dict[str, dict[str, tuple[bool, bool]]] = {
    "widget": {"content": (True, True), "icon": (True, False), "link": (True, False)},
    "email": {
        "subject": (True, False),
        "html": (True, True),
        "text": (True, False),
        "from": (False, False),
        "fromName": (False, False),
        "replyTo": (False, False),
    },
    "sms": {"text": (True, False)},
}
HEADER_FIELDS = {
    ("email", "subject"),
    ("email", "from"),
    ("email", "fromName"),
    ("email", "replyTo"),
}
_ENVIRONMENTS = {
    escaped: SandboxedEnvironment(autoescape=escaped, trim_blocks=False, keep_trailing_newline=True)
    for escaped in (True, False)
}
_NEWLINES = re.compile(r"[\r\n\u2028\u2029]+")


class RenderFailed(HeraldError):
    """A template that fails with this data: the message gets `template/renderFailed`."""

    def __init__(self, message: str) -> None:
        super().__init__("template/renderFailed", message, 400)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, escaped: bool):
    """A compiled template; cached by its text, so a changed template is compiled anew."""
    environment = _ENVIRONMENTS[escaped]
    tree = environment.parse(source)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attribute = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", "")
        if isinstance(attribute, str) and attribute.startswith("_"):
            raise TemplateSyntaxError(
                f"{attribute!r} is private and can't be used in a template", node.lineno
            )
    return environment.from_string(tree)


def compile_templates(templates: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Compile every template of a notification; a problem is 400 `template/invalid` naming
    language, channel, field and line."""
    for language, channels in templates.items():
        for channel, fields in channels.items():
            for field, source in fields.items():
                templated, escaped = CHANNEL_FIELDS[channel][field]
                if not templated or source is None:
                    continue
                try:
                    _compile(source, escaped)
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
    """Render one channel's fields (the override already applied) with this context."""
    rendered: dict[str, str | None] = {}
    for field, source in fields.items():
        if source is None or field not in CHANNEL_FIELDS[channel]:
            rendered[field] = None
            continue
        templated, escaped = CHANNEL_FIELDS[channel][field]
        text = str(source)
        if templated:
            try:
                text = _compile(text, escaped).render(context)
            except Exception as exc:  # noqa: BLE001 - any failure of user code in the sandbox
                raise RenderFailed(
                    f"Template {language}.{channel}.{field} failed with this data: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
        if (channel, field) in HEADER_FIELDS:
            text = _NEWLINES.sub(" ", text).strip()
        rendered[field] = text
    return rendered
