"""Feed events: recorded in order per user, published to open streams (Redis pub/sub in
production, an in-process hub in the embedded mode), and replayed after a `Last-Event-ID`
(shared.feed.replay).

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
import logging
import queue
import threading
from functools import cache
from typing import Any, NamedTuple

import redis
from sqlalchemy import Connection, Engine, Row, bindparam, insert

from shared.feed.replay import stored_event
from shared.infra.config import Settings
from shared.infra.db import transaction
from shared.infra.models import feed_events, utcnow

log = logging.getLogger("herald.events")


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


def feed_channel(settings: Settings) -> str:
    """The one Redis pub/sub channel every feed event of this deployment goes to."""
    return f"{settings.redis_namespace}:feed"


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


class LocalHub:
    """The embedded mode's pub/sub: a queue per open stream, keyed by project and user."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[tuple[str, str], set[queue.Queue]] = {}

    def subscribe(self, project_id: str, user_id: str) -> queue.Queue:
        """A queue that receives the user's events until `unsubscribe`."""
        inbox: queue.Queue = queue.Queue()
        with self._lock:
            self._streams.setdefault((project_id, user_id), set()).add(inbox)
        return inbox

    def unsubscribe(self, project_id: str, user_id: str, inbox: queue.Queue) -> None:
        """Stop delivering to this queue."""
        with self._lock:
            inboxes = self._streams.get((project_id, user_id), set())
            inboxes.discard(inbox)
            if not inboxes:
                self._streams.pop((project_id, user_id), None)

    def publish(self, event: FeedEvent) -> None:
        """Hand the event to every open stream of its user."""
        with self._lock:
            inboxes = list(self._streams.get((event.project_id, event.user_id), ()))
        for inbox in inboxes:
            inbox.put(event)


LOCAL_HUB = LocalHub()


@cache
def _redis(url: str) -> redis.Redis:
    """One publishing client per Redis URL and process."""
    return redis.Redis.from_url(url)


def publish(settings: Settings, event: FeedEvent) -> None:
    """Send an event to the open streams of its user, in every process of the deployment."""
    if settings.embedded:
        LOCAL_HUB.publish(event)
        return
    try:
        _redis(settings.redis_url).publish(feed_channel(settings), event.encode())
    except redis.RedisError as exc:  # the event is stored: a reconnecting page replays it
        log.warning("feed event %s not published: %s", event.id, exc)


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
    return "message.new" if row.widget_status == "pending" else "message.incremented"


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
