"""The answers Herald gives about a message: its `messages.send` result and its API JSON."""

from __future__ import annotations

from typing import Any

from shared.channels import FAILURES, Channel, ChannelStatus, MessageStatus
from shared.infra.errors import HeraldError, Refused
from shared.infra.models import messages

INCREMENTED = "incremented"  # the result of an item stacked onto an open message
# What `message_result` reads of a row, and what delivery reads besides.
RESULT_COLUMNS = [
    messages.c[name]
    for name in ("pk", "id", "status", "error", "error_message", "scheduled_at", "increment")
] + [column for c in Channel for column in (c.status, c.detail, c.provider_id, c.provider)]
_REPORTED = [channel for channel in Channel if channel.declared.result_error]
LOAD_COLUMNS = [column.name for column in RESULT_COLUMNS] + [
    "user_id",
    "notification_id",
    "data",
    "widget_override",
    "email_override",
    "push_override",
    "sending_since",
    # each channel's attempts so far: a retried channel's next send adds its own after them
    *(c.attempts.name for c in Channel),
]


def error_result(message_id: str | None, error: HeraldError) -> dict[str, Any]:
    """The result of a message Herald did not take."""
    return {**Refused(message_id, error).result(), "status": MessageStatus.FAILED, "channels": {}}


def incremented_result(message_id: str, increment: int) -> dict[str, Any]:
    """The result of an item stacked onto the open message `message_id`."""
    return {
        "id": message_id,
        "ok": True,
        "status": INCREMENTED,
        "increment": increment,
        "channels": {},
    }


def scheduled_result(row: dict[str, Any]) -> dict[str, Any]:
    """The result of a new message held until its sendAt, from the row about to be inserted."""
    return {
        "id": row["id"],
        "ok": True,
        "status": MessageStatus.SCHEDULED,
        "scheduledAt": row["scheduled_at"].isoformat(),
        "channels": {c: {"status": ChannelStatus.PENDING} for c in Channel if row[c.status.name]},
    }


def channel_json(row, channel: Channel) -> dict[str, Any]:
    """One channel's outcome as the API shows it (read by column name: the row may come from a
    statement selecting the columns of a CTE)."""
    mapping = row._mapping
    out: dict[str, Any] = {"status": mapping[channel.status.name]}
    detail = mapping[channel.detail.name]
    provider_id = mapping[channel.provider_id.name]
    if detail:
        out["reason"] = detail
    if provider_id:
        out["providerMessageId"] = provider_id
    provider = mapping.get(channel.provider.name)
    if provider:
        out["provider"] = provider
    if out["status"] == ChannelStatus.SCHEDULED:  # held by quiet hours until its scheduledAt
        out["scheduledAt"] = row.scheduled_at.isoformat()
    return out


def message_result(row) -> dict[str, Any]:
    """The `messages.send` result of a message, from its row (worker and ingress alike)."""
    mapping = row._mapping
    failed = row.status == MessageStatus.FAILED
    result: dict[str, Any] = {"id": row.id, "ok": not failed, "status": row.status}
    if failed:
        result.update(error=row.error, message=row.error_message)
    elif row.status == MessageStatus.SCHEDULED:
        result["scheduledAt"] = row.scheduled_at.isoformat()
    for channel in _REPORTED:
        if mapping[channel.status.name] in FAILURES and not failed:
            result[channel.declared.result_error] = mapping[channel.detail.name]
    result["channels"] = _channels_json(row)
    return result


def _channels_json(row) -> dict[str, Any]:
    """The outcome of each channel the message uses."""
    return {
        channel: channel_json(row, channel)
        for channel in Channel
        if row._mapping[channel.status.name] is not None
    }


def devices_json(sends: list, status: str) -> list[dict[str, Any]]:
    """Each device's push of the message; one still `sending` once the channel is not (its
    delivery stopped during that push) is `unknown`: it may have gone, it is not pushed again;
    one never tried by a delivery that is over failed."""
    shown = []
    for sent in sends:
        device = {"deviceId": sent.device_id, "kind": sent.kind, "to": sent.to}
        device["status"], error = sent.status, sent.detail
        if status != ChannelStatus.SENDING and sent.status == ChannelStatus.SENDING:
            device["status"] = ChannelStatus.UNKNOWN
        elif status not in (ChannelStatus.SENDING, ChannelStatus.PENDING) and (
            sent.status == ChannelStatus.PENDING
        ):
            device["status"], error = ChannelStatus.FAILED, "delivery/stopped"
        for key, value in (
            ("provider", sent.provider),
            ("providerMessageId", sent.provider_id),
            ("error", error),
        ):
            if value:
                device[key] = value
        shown.append(device)
    return shown


def message_json(row, sends: list | None = None) -> dict[str, Any]:
    """A message as `messages.get` and `messages.list` show it (`sends`: its devices' pushes,
    rows of `push_sends`)."""
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
    for channel, outcome in out["channels"].items():
        attempts = row._mapping[channel.attempts.name]
        if attempts:  # every provider tried, first first
            outcome["attempts"] = attempts
        if channel.declared.devices and sends:
            outcome["devices"] = devices_json(sends, outcome["status"])
    if row.status == MessageStatus.FAILED:
        out.update(error=row.error, message=row.error_message)
    if row.widget_status is not None:
        out["widget"] = {
            "content": row.widget_content,
            "icon": row.widget_icon,
            "link": row.widget_link,
        }
    return out
