"""The events of SPEC §9: their types, which endpoints want one, the body posted, and the
events Herald writes itself (those of a message's channels are written by triggers)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, insert

from shared.infra.models import utcnow
from shared.webhooks.tables import webhook_events
from shared.webhooks.triggers import EVENT_STATUSES

MESSAGE_EVENTS = tuple(f"message.{status}" for status in EVENT_STATUSES) + ("message.read",)
EVENT_TYPES = (
    *MESSAGE_EVENTS,
    "user.unsubscribed",
    "user.preferences.updated",
    "webhook.test",
)
ALL = "*"


def wants(events: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to `events` gets an event of this type (`webhook.test`
    goes only to the endpoint tested, not through here)."""
    return ALL in events or event_type in events


def new_event_id() -> str:
    """An event's id: `evt_` and 24 hex digits, the `webhook-id` of every post of it."""
    return "evt_" + secrets.token_hex(12)


def record_event(connection: Connection, project_id: str, event_type: str, data: dict) -> str:
    """Write an event into the outbox on the caller's connection (its transaction): its id."""
    event_id = new_event_id()
    connection.execute(
        insert(webhook_events).values(
            id=event_id, project_id=project_id, type=event_type, data=data, created_at=utcnow()
        )
    )
    return event_id


def event_body(event_type: str, created_at, data: dict[str, Any]) -> dict[str, Any]:
    """What is posted: `{type, timestamp, data}`, absent fields left out of `data`."""
    return {
        "type": event_type,
        "timestamp": created_at.isoformat().replace("+00:00", "Z"),
        "data": {key: value for key, value in data.items() if value is not None},
    }
