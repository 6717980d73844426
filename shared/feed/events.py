"""Feed events: recorded in order per user, published to open streams through the mode's hub
(`hubs/`: Redis pub/sub in production, in the process embedded), and replayed after a
`Last-Event-ID`.

An event's id is the `feed_events` row id, so it grows per user; its data is built from the
message as it is when the event is sent or replayed (a snapshot, so applying one twice is
harmless): `message.new` and `message.incremented` carry the message, `message.read` its id
and `readAt`, `messages.readAll` the `readAt`; every event carries the user's `unread` count.

A delivery announces its widget message with a notice (the event without its data): the
worker stores one row and publishes, and the process holding an open stream of that user
builds the data when it sends it. A deployment where nobody has the bell open pays no read
for it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Row, bindparam, insert, select

from shared.channels import ChannelStatus
from shared.feed.hubs.base import FeedHub
from shared.feed.hubs.memory import MemoryHub
from shared.feed.hubs.redis import RedisHub, feed_channel
from shared.feed.reading import feed_message, front_message, unread_count
from shared.infra.config import Settings
from shared.infra.db import transaction
from shared.infra.models import feed_events, utcnow

REPLAY_LIMIT = 500
MESSAGE_KINDS = ("message.new", "message.incremented")


class FeedEvent(NamedTuple):
    """One event of a user's stream: its id, whose it is, what happened, and its data (None in
    a notice: `complete` builds it)."""

    id: int
    project_id: str
    user_id: str
    kind: str
    message_id: str | None
    data: dict[str, Any] | None

    def encode(self) -> str:
        """The form it travels in over pub/sub."""
        return json.dumps(list(self))

    @classmethod
    def decode(cls, raw: str | bytes) -> FeedEvent:
        """The event a `encode` made."""
        return cls(*json.loads(raw))


# Built once: the row of an event.
_INSERT = (
    insert(feed_events)
    .values({name: bindparam(name) for name in ("project_id", "user_id", "kind", "message_id")})
    .values(created_at=bindparam("created_at"))
    .returning(*feed_events.c)
)


def _insert(
    connection: Connection, project_id: str, user_id: str, kind: str, message_id: str | None
) -> Row:
    """Store an event's row in the caller's transaction."""
    values = {"project_id": project_id, "user_id": user_id, "kind": kind}
    values |= {"message_id": message_id, "created_at": utcnow()}
    return connection.execute(_INSERT, values).one()


def record(
    connection: Connection,
    project_id: str,
    user_id: str,
    kind: str,
    message_id: str | None = None,
) -> FeedEvent:
    """Store an event in the caller's transaction and build its data; publish it after commit."""
    row = _insert(connection, project_id, user_id, kind, message_id)
    unread = unread_count(connection, project_id, user_id)
    return FeedEvent(row.id, project_id, user_id, kind, message_id, _data(connection, row, unread))


def complete(connection: Connection, event: FeedEvent) -> FeedEvent:
    """The event with its data, built from the message as it is now (as it is when given)."""
    if event.data is not None:
        return event
    unread = unread_count(connection, event.project_id, event.user_id)
    return event._replace(data=_data(connection, event, unread))


def _data(connection: Connection, event, unread: int) -> dict[str, Any]:
    """The data of a stored event (a `feed_events` row, or a notice of a message kind), from the
    message as it is now."""
    data: dict[str, Any] = {"type": event.kind, "unread": unread}
    if event.kind == "messages.readAll":
        data["readAt"] = event.created_at.isoformat()
        return data
    message = feed_message(connection, event.project_id, event.user_id, event.message_id)
    if message is None:  # deleted since
        return {"type": "message.removed", "messageId": event.message_id, "unread": unread}
    if event.kind in MESSAGE_KINDS:
        data["message"] = front_message(message)
    else:
        data.update(messageId=message.id, readAt=front_message(message)["readAt"])
    return data


def replay(connection: Connection, project_id: str, user_id: str, after: int) -> list[FeedEvent]:
    """The user's events after the id `after`, oldest first (at most the last REPLAY_LIMIT)."""
    rows = connection.execute(
        select(feed_events)
        .where(
            feed_events.c.project_id == project_id,
            feed_events.c.user_id == user_id,
            feed_events.c.id > after,
        )
        .order_by(feed_events.c.id.desc())
        .limit(REPLAY_LIMIT)
    ).all()
    if not rows:
        return []
    unread = unread_count(connection, project_id, user_id)
    return [
        FeedEvent(
            row.id, project_id, user_id, row.kind, row.message_id, _data(connection, row, unread)
        )
        for row in reversed(rows)
    ]


def last_event_id(connection: Connection, project_id: str, user_id: str) -> int:
    """The id of the user's newest event, 0 when there is none."""
    return (
        connection.execute(
            select(feed_events.c.id)
            .where(feed_events.c.project_id == project_id, feed_events.c.user_id == user_id)
            .order_by(feed_events.c.id.desc())
            .limit(1)
        ).scalar()
        or 0
    )


# The embedded mode's one process holds every open stream and publishes every event.
MEMORY_HUB = MemoryHub()


def feed_hub(settings: Settings) -> FeedHub:
    """The hub of the mode: this process's when embedded, else the deployment's Redis channel
    (one client per process)."""
    if settings.embedded:
        return MEMORY_HUB
    return _redis_hub(settings.redis_url, feed_channel(settings))


@cache
def _redis_hub(url: str, channel: str) -> RedisHub:
    """One Redis hub per Redis URL, channel and process."""
    return RedisHub(url, channel, FeedEvent.decode)


def publish(settings: Settings, event: FeedEvent) -> None:
    """Send an event to the open streams of its user, in every process of the deployment."""
    feed_hub(settings).publish(event)


def emit(
    settings: Settings,
    engine: Engine,
    project_id: str,
    user_id: str,
    kind: str,
    message_id: str | None = None,
) -> FeedEvent:
    """Record an event in its own transaction, then publish it."""
    with transaction(engine) as connection:
        event = record(connection, project_id, user_id, kind, message_id)
    publish(settings, event)
    return event


def widget_kind(row: Row) -> str:
    """The event of a delivery that rendered the widget: `message.new` if the row as read had
    the widget pending, else `message.incremented` (a refresh)."""
    pending = row.widget_status == ChannelStatus.PENDING
    return "message.new" if pending else "message.incremented"


def widget_written(settings: Settings, connection: Connection, row: Row) -> None:
    """After a delivery claim that rendered the widget, on the claim's connection: announce the
    message (`widget_kind`). The row read for the claim already names the message and its
    owner, and the stream that sends the notice builds its data: one insert, one publish."""
    kind = widget_kind(row)
    event = _insert(connection, row.project_id, row.user_id, kind, row.id)
    announce_widget(settings, row, kind, event.id)


def announce_widget(settings: Settings, row: Row, kind: str, event_id: int) -> None:
    """Publish the notice of a stored widget event of the message `row`."""
    publish(settings, FeedEvent(event_id, row.project_id, row.user_id, kind, row.id, None))


def catch_up(
    connection: Connection, project_id: str, user_id: str, after: int | None
) -> tuple[list[FeedEvent], int, int]:
    """What a stream sends on opening: (the events after `after`, the id the stream stands at,
    the unread count). Without `after` nothing is replayed and the stream starts at the newest."""
    events = replay(connection, project_id, user_id, after) if after is not None else []
    if after is None:
        cursor = last_event_id(connection, project_id, user_id)
    else:
        cursor = events[-1].id if events else after
    return events, cursor, unread_count(connection, project_id, user_id)
