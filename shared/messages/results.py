"""The answers Herald gives about a message: its `messages.send` result and its API JSON."""

from __future__ import annotations

from typing import Any

from shared.infra.errors import HeraldError, Refused
from shared.infra.models import CHANNELS, messages

# What `message_result` reads of a row, and what delivery reads besides.
RESULT_COLUMNS = [
    messages.c[name]
    for name in ("pk", "id", "status", "error", "error_message", "scheduled_at", "increment")
] + [messages.c[f"{c}_{part}"] for c in CHANNELS for part in ("status", "detail", "provider_id")]
LOAD_COLUMNS = [column.name for column in RESULT_COLUMNS] + [
    "user_id",
    "notification_id",
    "data",
    "widget_override",
    "email_override",
    "sending_since",
]


def error_result(message_id: str | None, error: HeraldError) -> dict[str, Any]:
    """The result of a message Herald did not take."""
    return {**Refused(message_id, error).result(), "status": "failed", "channels": {}}


def incremented_result(message_id: str, increment: int) -> dict[str, Any]:
    """The result of an item stacked onto the open message `message_id`."""
    return {
        "id": message_id,
        "ok": True,
        "status": "incremented",
        "increment": increment,
        "channels": {},
    }


def scheduled_result(row: dict[str, Any]) -> dict[str, Any]:
    """The result of a new message held until its sendAt, from the row about to be inserted."""
    return {
        "id": row["id"],
        "ok": True,
        "status": "scheduled",
        "scheduledAt": row["scheduled_at"].isoformat(),
        "channels": {c: {"status": "pending"} for c in CHANNELS if row[f"{c}_status"]},
    }


def channel_json(row, channel: str) -> dict[str, Any]:
    """One channel's outcome as the API shows it."""
    out: dict[str, Any] = {"status": row._mapping[f"{channel}_status"]}
    detail = row._mapping[f"{channel}_detail"]
    provider_id = row._mapping[f"{channel}_provider_id"]
    if detail:
        out["reason"] = detail
    if provider_id:
        out["providerMessageId"] = provider_id
    if out["status"] == "scheduled":  # held by quiet hours until the message's scheduledAt
        out["scheduledAt"] = row.scheduled_at.isoformat()
    return out


def message_result(row) -> dict[str, Any]:
    """The `messages.send` result of a message, from its row (worker and ingress alike)."""
    mapping = row._mapping
    result: dict[str, Any] = {"id": row.id, "ok": row.status != "failed", "status": row.status}
    if row.status == "failed":
        result.update(error=row.error, message=row.error_message)
    elif row.status == "scheduled":
        result["scheduledAt"] = row.scheduled_at.isoformat()
    for channel, key in (("email", "emailError"), ("sms", "smsError")):
        if mapping[f"{channel}_status"] in ("failed", "unknown") and row.status != "failed":
            result[key] = mapping[f"{channel}_detail"]
    result["channels"] = _channels_json(row)
    return result


def _channels_json(row) -> dict[str, Any]:
    """The outcome of each channel the message uses."""
    return {
        channel: channel_json(row, channel)
        for channel in CHANNELS
        if row._mapping[f"{channel}_status"] is not None
    }


def message_json(row) -> dict[str, Any]:
    """A message as `messages.get` and `messages.list` show it."""
    stamp = {
        name: (value.isoformat() if value else None)
        for name, value in (
            ("scheduledAt", row.scheduled_at),
            ("readAt", row.read_at),
            ("createdAt", row.created_at),
            ("updatedAt", row.updated_at),
        )
    }
    out = {
        "id": row.id,
        "userId": row.user_id,
        "notificationId": row.notification_id,
        "status": row.status,
        "data": row.data,
        "increment": row.increment,
        "incrementId": row.increment_id,
        "language": row.language,
        "channels": _channels_json(row),
        **stamp,
    }
    if row.status == "failed":
        out.update(error=row.error, message=row.error_message)
    if row.widget_status is not None:
        out["widget"] = {
            "content": row.widget_content,
            "icon": row.widget_icon,
            "link": row.widget_link,
        }
    return out
