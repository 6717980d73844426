"""Server-Sent Events of a user's feed: the framing, the opening catch-up, and the thread per
stream that the Flask server uses (the `stream` process serves them on an event loop).

An event's `id:` is its number in the user's sequence (shared.feed.replay), which is also what
a reconnecting page sends back as `Last-Event-ID`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shared.feed.events import FeedEvent, complete, feed_hub
from shared.feed.replay import CatchUp, catch_up
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
    """The id a reconnecting page saw last (header, or `lastEventId` for a first connection);
    None when absent or not a number."""
    raw = (headers.get("Last-Event-ID") or query.get("lastEventId") or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def frame(event_id: int, data: dict[str, Any]) -> str:
    """One SSE event."""
    return f"id: {event_id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


HEARTBEAT = ": heartbeat\n\n"


class Opening:
    """A stream's first frames, and which later events it must not send twice."""

    def __init__(self, caught: CatchUp):
        self.replayed = {event.id for event in caught.events}
        self.floor = caught.floor
        self.frames = [f"retry: {RETRY_MS}\n\n"]
        self.frames += [frame(event.seq, event.data) for event in caught.events]
        self.frames.append(frame(caught.cursor, {"type": "stream.open", "unread": caught.unread}))

    def fresh(self, event: FeedEvent) -> bool:
        """True for a live event the opening did not already send (every event published
        after the subscription, the replayed ones excepted)."""
        return event.id > self.floor and event.id not in self.replayed


def live_frame(engine, event: FeedEvent) -> str:
    """The frame of a live event; a delivery's notice gets its data and number here, from the
    message as it is now ("" if its row is not there)."""
    if event.data is None:
        with autocommit(engine) as connection:
            event = complete(connection, event)
    return "" if event is None else frame(event.seq, event.data)


def open_stream(engine, project_id: str, user_id: str, after: int | None) -> Opening:
    """Read what the stream sends first (call after subscribing, so nothing falls between)."""
    with autocommit(engine) as connection:
        return Opening(catch_up(connection, project_id, user_id, after))


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
            elif opening.fresh(event) and (text := live_frame(svc.engine, event)):
                yield text
    finally:
        STREAM_CONNECTIONS.dec()
        inbox.close()
