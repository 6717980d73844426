"""`templates.preview`: every channel of a notification rendered as a send would render it,
with the same sandbox, limits, language fallback and context, and nothing sent or stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gsm0338  # noqa: F401 - registers the `gsm03.38` codec
import uuid6
from pydantic import ValidationError
from sqlalchemy import Connection

from shared.channels import API_ORDER, Channel
from shared.contacts.users import get_user
from shared.infra.errors import HeraldError
from shared.infra.validation import Data, Id, Item, Language, item_error
from shared.notifications.catalog import get_notification, parse_notification
from shared.templating.message import Content, Draft, Recipient, render_message
from shared.tenancy.projects import Project

# Septets (GSM-7) or UTF-16 code units (UCS-2) of one SMS, and of each part of a longer one.
SMS_SIZES = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


class PreviewBody(Item):
    """The body of `templates.preview`: a saved notification's id or an unsaved body."""

    notificationId: Id | None = None
    notification: dict[str, Any] | None = None
    language: Language | None = None
    userId: Id | None = None
    data: Data | None = None


@dataclass(frozen=True)
class SmsCount:
    """How a carrier counts an SMS: its encoding, its length in that encoding, its parts."""

    encoding: str
    length: int
    segments: int


def parse_preview(raw: Any) -> PreviewBody:
    """The preview's body, validated: exactly one of `notificationId` and `notification`."""
    if not isinstance(raw, dict):
        raise HeraldError("body/invalid", "The body must be a JSON object.")
    try:
        body = PreviewBody.model_validate(raw)
    except ValidationError as exc:
        raise item_error(exc) from None
    if (body.notificationId is None) == (body.notification is None):
        raise HeraldError(
            "notificationId/required",
            "Give notificationId (a saved notification) or notification (a body to try), "
            "one of the two.",
        )
    return body


def preview(connection: Connection, project: Project, body: PreviewBody):
    """Render every channel the notification has for this user and data; nothing is written."""
    if body.notification is not None:
        notification = parse_notification(body.notification)
    else:
        notification = dict(get_notification(connection, project.id, body.notificationId)._mapping)
    draft = Draft(
        notification_id=notification["id"],
        notification_name=notification["name"],
        templates=notification["templates"] or {},
        default_language=notification["default_language"],
        message_id=str(uuid6.uuid7()),
        data=body.data or {},
        recipient=_recipient(connection, project.id, body.userId),
        language=body.language,
        project_id=project.id,
    )
    channels = [channel for channel in Channel if notification[channel.with_column.name]]
    rendered = render_message(draft, channels, project)
    answer: dict[str, Any] = {"language": rendered.language}
    for channel in API_ORDER:
        content = rendered.contents.get(channel)
        answer[channel] = None if content is None else _shown(channel, content)
    answer["undefined"] = rendered.undefined
    return answer


def _recipient(connection: Connection, project_id: str, user_id: str | None) -> Recipient | None:
    """The user as a send sees them; none without a userId."""
    if user_id is None:
        return None
    row = get_user(connection, project_id, user_id)
    return Recipient(row.id, row._mapping, row.data or {})


def _shown(channel: Channel, content: Content) -> dict[str, Any]:
    """A channel's content as the preview shows it: an SMS with how a carrier counts it."""
    if channel is not Channel.SMS:
        return dict(content)
    count = count_sms(content["text"] or "")
    return {
        **content,
        "length": count.length,
        "segments": count.segments,
        "encoding": count.encoding,
    }


def count_sms(text: str) -> SmsCount:
    """GSM-7 when every character is in the GSM 03.38 alphabet (an extension character takes
    two septets), else UCS-2; a long SMS is split into parts that never cut a character."""
    try:
        units = [len(character.encode("gsm03.38")) for character in text]
        encoding = "GSM-7"
    except UnicodeEncodeError:
        units = [len(character.encode("utf-16-le")) // 2 for character in text]
        encoding = "UCS-2"
    single, part = SMS_SIZES[encoding]
    length = sum(units)
    if length <= single:
        return SmsCount(encoding, length, 1 if length else 0)
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return SmsCount(encoding, length, segments)
