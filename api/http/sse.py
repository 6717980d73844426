"""Server-Sent Events of a user's feed: the framing, the opening catch-up, and the thread per
stream that the Flask server uses (the `stream` process serves them on an event loop)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shared.feed.events import FeedEvent, catch_up, complete, feed_hub
from shared.infra.db import autocommit
from shared.operations.metrics import STREAM_CONNECTIONS

if TYPE_CHECKING:
    from api.http.requests import Services

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID, X-Herald-User-Hmac",
    "Access-Control-Max-Age": "86400",
}
STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: pass events through at once
}
RETRY_MS = 2000


def last_event_id(headers, query) -> int | None:
    """The id a reconnecting page saw last (header, or `lastEventId` for a first connection)."""
    raw = (headers.get("Last-Event-ID") or query.get("lastEventId") or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def frame(event_id: int, data: dict[str, Any]) -> str:
    """One SSE event."""
    return f"id: {event_id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


HEARTBEAT = ": heartbeat\n\n"


class Opening:
    """A stream's first frames, and which later events it must not send twice."""

    def __init__(self, after: int | None, events: list[FeedEvent], cursor: int, unread: int):
        self.replayed = {event.id for event in events}
        self.after = after or 0
        self.frames = [f"retry: {RETRY_MS}\n\n"]
        self.frames += [frame(event.id, event.data) for event in events]
        self.frames.append(frame(cursor, {"type": "stream.open", "unread": unread}))

    def fresh(self, event: FeedEvent) -> bool:
        """True for a live event the opening did not already send (every event published
        after the subscription, the replayed ones excepted)."""
        return event.id > self.after and event.id not in self.replayed


def completed(engine, event: FeedEvent) -> FeedEvent:
    """The event with its data (a delivery's notice gets it here, from the message as now)."""
    if event.data is not None:
        return event
    with autocommit(engine) as connection:
        return complete(connection, event)


def open_stream(engine, project_id: str, user_id: str, after: int | None) -> Opening:
    """Read what the stream sends first (call after subscribing, so nothing falls between)."""
    with autocommit(engine) as connection:
        return Opening(after, *catch_up(connection, project_id, user_id, after))


def threaded_stream(
    svc: Services, project_id: str, user_id: str, after: int | None
) -> Iterator[str]:
    """The frames of one stream, blocking this thread between events."""
    settings = svc.settings
    inbox = feed_hub(settings).subscribe(project_id, user_id)
    STREAM_CONNECTIONS.inc()
    try:
        opening = open_stream(svc.engine, project_id, user_id, after)
        yield from opening.frames
        while True:
            event = inbox.get(settings.stream_heartbeat)
            if event is None:
                yield HEARTBEAT
            elif opening.fresh(event):
                yield frame(event.id, completed(svc.engine, event).data)
    finally:
        STREAM_CONNECTIONS.dec()
        inbox.close()
