"""A user's recent feed events as a stream sends them, read in one statement: each with its
number in the user's sequence and its data, built from the message as it is now.

The id a stream shows for an event is that number, its rank among the user's events (1 for the
first), not the `feed_events` row id: row ids are one sequence for the whole deployment, so a
page would learn from them how many events every other user and project had meanwhile. The rank
tells it only what it saw itself; it is counted on the `feed_events` index, whose rows are never
deleted one by one. A reconnect replays at most the last REPLAY_LIMIT events.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, Select, and_, func, select

from shared.feed.reading import FRONT_MESSAGE, front_message, in_feed, unread_count, unread_select
from shared.infra.models import feed_events, messages

REPLAY_LIMIT = 50
MESSAGE_KINDS = ("message.new", "message.incremented")


class PastEvent(NamedTuple):
    """A stored event: its row id, its number in the user's sequence, what happened, and its
    data as a stream sends it."""

    id: int
    seq: int
    kind: str
    message_id: str | None
    data: dict[str, Any]


class CatchUp(NamedTuple):
    """What a stream sends on opening: the events it missed (oldest first), the row id at and
    below which every other event was covered, the number `stream.open` shows, and `unread`."""

    events: list[PastEvent]
    floor: int
    cursor: int
    unread: int


def _recent(project_id: str, user_id: str, limit: int, upto: int | None) -> Select:
    """The user's newest `limit` events (up to the row `upto`), newest first, each with the
    message it names as the feed shows it, how many events there are, and the unread count."""
    mine = [feed_events.c.project_id == project_id, feed_events.c.user_id == user_id]
    if upto is not None:
        mine.append(feed_events.c.id <= upto)
    recent = select(feed_events).where(*mine).order_by(feed_events.c.id.desc()).limit(limit)
    recent = recent.subquery("recent")
    named = and_(*in_feed(project_id, user_id), messages.c.id == recent.c.message_id)
    return (
        select(
            recent.c.id.label("event_id"),
            recent.c.kind.label("event_kind"),
            recent.c.message_id.label("event_message_id"),
            recent.c.created_at.label("event_at"),
            select(func.count())
            .select_from(feed_events)
            .where(*mine)
            .scalar_subquery()
            .label("total"),
            unread_select(project_id, user_id).scalar_subquery().label("unread"),
            *(messages.c[column] for column in FRONT_MESSAGE.values()),
        )
        .select_from(recent.outerjoin(messages, named))
        .order_by(recent.c.id.desc())
    )


def _data(row: Row) -> dict[str, Any]:
    """An event's data from its row of `_recent`."""
    data: dict[str, Any] = {"type": row.event_kind, "unread": row.unread}
    if row.event_kind == "messages.readAll":
        data["readAt"] = row.event_at.isoformat()
        return data
    if row.id is None:  # its message was deleted since
        return {"type": "message.removed", "messageId": row.event_message_id, "unread": row.unread}
    if row.event_kind in MESSAGE_KINDS:
        data["message"] = front_message(row)
    else:
        data.update(messageId=row.id, readAt=front_message(row)["readAt"])
    return data


def recent_events(
    connection: Connection, project_id: str, user_id: str, limit: int, upto: int | None = None
) -> tuple[list[PastEvent], int | None]:
    """The user's newest `limit` events (up to the row `upto`), newest first, and the unread
    count (None when there is no event)."""
    rows = connection.execute(_recent(project_id, user_id, limit, upto)).all()
    events = [
        PastEvent(row.event_id, row.total - i, row.event_kind, row.event_message_id, _data(row))
        for i, row in enumerate(rows)
    ]
    return events, rows[0].unread if rows else None


def stored_event(connection: Connection, project_id: str, user_id: str, event_id: int):
    """The stored event of this row id with its number and data, or None if it isn't there."""
    events, _ = recent_events(connection, project_id, user_id, 1, upto=event_id)
    return events[0] if events and events[0].id == event_id else None


def catch_up(connection: Connection, project_id: str, user_id: str, after: int | None) -> CatchUp:
    """What a stream sends on opening: the events numbered above `after` (at most the last
    REPLAY_LIMIT). Without `after` nothing is replayed and the stream starts at the newest."""
    limit = 1 if after is None else REPLAY_LIMIT + 1
    newest, unread = recent_events(connection, project_id, user_id, limit)
    missed = [] if after is None else [e for e in newest[:REPLAY_LIMIT] if e.seq > after]
    floor = newest[len(missed)].id if len(newest) > len(missed) else 0
    if unread is None:
        unread = unread_count(connection, project_id, user_id)
    return CatchUp(missed[::-1], floor, newest[0].seq if newest else 0, unread)
