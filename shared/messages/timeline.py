"""One message's timeline (SPEC §11): what happened to it, in order, from what is stored.

Herald keeps no log of events beside the message: the timeline is read from its row (accepted,
scheduled, read), each channel's attempts, each device's push, the e-mail's feedback (only its
latest state is kept, at the row's last change) and the webhook deliveries of its events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from shared.channels import Channel, ChannelStatus
from shared.infra.models import push_sends
from shared.messages.results import devices_json
from shared.messages.store import get_message
from shared.webhooks.tables import webhook_deliveries, webhook_events, webhooks

S = ChannelStatus
FEEDBACK = frozenset({S.DELIVERED, S.BOUNCED, S.COMPLAINED, S.REJECTED})


def message_timeline(connection: Connection, project_id: str, message_id: str) -> list[dict]:
    """The message's entries oldest first (`message/notFound` as `messages.get`); each has
    `at` and `kind`: accepted, scheduled, attempt, device, feedback, read or webhook."""
    row = get_message(connection, project_id, message_id)
    entries = [_entry(row.created_at, "accepted")]
    if row.scheduled_at is not None:
        entries.append(_entry(row.scheduled_at, "scheduled"))
    entries += _attempts(row)
    entries += _devices(connection, row)
    if row.email_status in FEEDBACK:
        feedback = {"channel": Channel.EMAIL.value, "status": row.email_status}
        entries.append(_entry(row.updated_at, "feedback", **feedback, error=row.email_detail))
    if row.read_at is not None:
        entries.append(_entry(row.read_at, "read", channel=Channel.WIDGET.value))
    entries += _webhooks(connection, row)
    return sorted(entries, key=lambda entry: _instant(entry["at"]))  # stable: ties as added


def _entry(at: datetime | str, kind: str, **fields: Any) -> dict[str, Any]:
    """One entry: its time as RFC 3339, its kind, and its fields that have a value."""
    stamp = at.isoformat() if isinstance(at, datetime) else at
    return {"at": stamp, "kind": kind, **{k: v for k, v in fields.items() if v is not None}}


def _instant(stamp: str) -> datetime:
    """An entry's time, to sort by (a stored attempt's time without offset is UTC)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _attempts(row: Row) -> list[dict[str, Any]]:
    """Every provider call of every channel, as its `<channel>_attempts` has it."""
    found = []
    for channel in Channel:
        for attempt in row._mapping[channel.attempts.name] or []:
            found.append(
                _entry(
                    str(attempt.get("at")),
                    "attempt",
                    channel=channel.value,
                    provider=attempt.get("provider"),
                    outcome=attempt.get("outcome"),
                    error=attempt.get("error"),
                    deviceId=attempt.get("deviceId"),
                )
            )
    return found


def _devices(connection: Connection, row: Row) -> list[dict[str, Any]]:
    """Each device's push outcome, as `messages.get` shows it, at its last change."""
    if row.push_status is None:
        return []
    query = select(push_sends).where(push_sends.c.message_pk == row.pk)
    sends = connection.execute(query.order_by(push_sends.c.updated_at)).all()
    shown = devices_json(sends, row.push_status)
    entries = []
    for sent, device in zip(sends, shown, strict=True):
        device["deviceKind"] = device.pop("kind")  # `kind` is the entry's
        entries.append(_entry(sent.updated_at, "device", channel=Channel.PUSH.value, **device))
    return entries


def _webhooks(connection: Connection, row: Row) -> list[dict[str, Any]]:
    """Each delivery of each webhook event about the message, at its last attempt."""
    events, deliveries = webhook_events.c, webhook_deliveries.c
    query = (
        select(events.id, events.type, events.data, webhooks.c.id.label("webhook_id"))
        .add_columns(deliveries.status, deliveries.attempts, deliveries.status_code)
        .add_columns(deliveries.error, deliveries.updated_at)
        .join(webhook_deliveries, deliveries.event_pk == events.pk)
        .join(webhooks, webhooks.c.pk == deliveries.webhook_pk)
        .where(events.project_id == row.project_id, events.created_at >= row.created_at)
        .where(events.data["messageId"].as_string() == row.id)
        .order_by(deliveries.updated_at, deliveries.pk)
    )
    return [
        _entry(
            found.updated_at,
            "webhook",
            channel=found.data.get("channel"),
            eventId=found.id,
            eventType=found.type,
            webhookId=found.webhook_id,
            status=found.status,
            attempts=found.attempts,
            statusCode=found.status_code,
            error=found.error,
        )
        for found in connection.execute(query)
    ]
