"""A message rendered as a send renders it: the one path of the worker's delivery and of
`templates.preview`. It picks the message's language and each channel's, builds the template
context from the user's profile and the data, renders each channel (its override applied) in
the render pool (`shared.templating.isolated`), and fills in what the templates leave out (the
project's From, an empty subject).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.channels import Channel
from shared.contacts.users import PROFILE_FIELDS
from shared.templating.isolated import render_channels
from shared.templating.rendering import RenderFailed

Content = dict[str, str | None]  # a channel's rendered fields, by their API name


@dataclass(frozen=True)
class Recipient:
    """The user a message is rendered for: their id, profile columns and data."""

    id: str
    columns: Mapping[str, Any]  # `users` column -> value, for the profile's columns
    data: Mapping[str, Any]

    @property
    def profile(self) -> dict[str, Any]:
        """The profile fields by API name, and the user's id."""
        profile = {name: self.columns[column] for name, column in PROFILE_FIELDS.items()}
        profile["id"] = self.id
        return profile


@dataclass(frozen=True)
class Draft:
    """What a message is rendered from: its notification's templates, its user and data."""

    notification_id: str
    notification_name: str
    templates: dict[str, dict[str, Any]]
    default_language: str
    message_id: str
    data: Mapping[str, Any]
    recipient: Recipient | None  # None: rendered for no user (a preview without a userId)
    increment: int = 1
    language: str | None = None  # the language asked for, before the user's
    overrides: Mapping[Channel, dict[str, Any] | None] = field(default_factory=dict)
    project_id: str = ""  # whose compiled templates the render pool's cache charges


@dataclass(frozen=True)
class RenderedMessage:
    """The message's language and each channel's content."""

    language: str
    contents: dict[Channel, Content]
    undefined: list[str] = field(default_factory=list)  # names the templates used, no value

    def missing(self, channel: Channel) -> str | None:
        """Why the channel can't go as rendered (no From anywhere), or None."""
        content = self.contents[channel]
        for declared in channel.fields:
            if declared.needed and not content[declared.name]:
                return declared.needed
        return None


def render_message(draft: Draft, channels: Iterable[Channel], sender: Any) -> RenderedMessage:
    """Render these channels of the message; what a template leaves out is taken from the
    project `sender` (its settings as attributes: `email_from`, ...). RenderFailed, with the
    message's language, when a template fails with this data."""
    channels = [Channel(channel) for channel in channels]
    recipient = draft.recipient
    wanted = draft.language or (recipient.columns["language"] if recipient else None)
    language, languages = pick_channel_languages(
        draft.templates, wanted, draft.default_language, channels
    )
    context = build_context(
        recipient.profile if recipient else {},
        recipient.data if recipient else {},
        draft.data,
        draft.increment,
        draft.message_id,
        {"id": draft.notification_id, "name": draft.notification_name},
    )
    items = []
    for channel, channel_language in languages.items():
        template = draft.templates.get(channel_language, {}).get(channel, {})
        fields = {**template, **(draft.overrides.get(channel) or {})}
        items.append((channel_language, str(channel), fields))
    try:
        rendered = render_channels(draft.project_id, items, context)
    except RenderFailed as exc:
        raise RenderFailed(exc.message, language) from None
    contents = {
        Channel(name): _content(Channel(name), fields, sender)
        for name, fields in rendered.contents.items()
    }
    return RenderedMessage(language, contents, rendered.undefined)


def _content(channel: Channel, rendered: Content, sender: Any) -> Content:
    """Every declared field of the channel: as rendered, else the project's setting, else its
    blank."""
    content: Content = {}
    for declared in channel.fields:
        value = rendered.get(declared.name)
        if declared.project_default:
            value = value or getattr(sender, declared.project_default)
        if declared.blank is not None:
            value = value or declared.blank
        content[declared.name] = value
    return content


def pick_language(available: Mapping[str, Any], wanted: str | None, default: str) -> str:
    """The user's language, then its base language (`pt-BR` -> `pt`), then the default."""
    if wanted:
        if wanted in available:
            return wanted
        base = wanted.split("-", 1)[0]
        if base in available:
            return base
    return default


def pick_channel_languages(
    templates: dict[str, dict[str, Any]], wanted: str | None, default: str, channels: list[Channel]
) -> tuple[str, dict[Channel, str]]:
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
    user_data: Mapping[str, Any],
    data: Mapping[str, Any],
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
