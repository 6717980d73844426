"""Feed events: recorded in order per user, published to open streams through the mode's hub
(`hubs/`: Redis pub/sub in production, in the process embedded), and replayed after a
`Last-Event-ID` (shared.feed.replay).

An event is a `feed_events` row; the id a stream shows is its number in the user's sequence
(shared.feed.replay says why not the row id). Its data is built from the
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

from sqlalchemy import Connection, Engine, Row, bindparam, insert

from shared.channels import ChannelStatus
from shared.feed.hubs.base import FeedHub
from shared.feed.hubs.memory import MemoryHub
from shared.feed.hubs.redis import RedisHub, feed_channel
from shared.feed.replay import stored_event
from shared.infra.config import Settings
from shared.infra.db import transaction
from shared.infra.models import feed_events, utcnow


class FeedEvent(NamedTuple):
    """One event of a user's stream: its row id, whose it is, what happened, its data and the
    id a stream shows for it, its number in the user's sequence (both None in a notice:
    `complete` reads them)."""

    id: int
    project_id: str
    user_id: str
    kind: str
    message_id: str | None
    data: dict[str, Any] | None
    seq: int | None = None

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
    stored = stored_event(connection, project_id, user_id, row.id)
    return FeedEvent(row.id, project_id, user_id, kind, message_id, stored.data, stored.seq)


def complete(connection: Connection, event: FeedEvent) -> FeedEvent | None:
    """The event with its data, built from the message as it is now, and its number (as it is
    when given); None if its row is not there."""
    if event.data is not None:
        return event
    stored = stored_event(connection, event.project_id, event.user_id, event.id)
    return None if stored is None else event._replace(data=stored.data, seq=stored.seq)


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
