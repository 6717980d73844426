"""Messages as stored: their life cycle, and reading them back by id or as a filtered list."""

# A message's life: `queued` (or `scheduled` until its sendAt) -> `sent` once every channel is
# final, or `failed` when its templates cannot render with its data. Each channel moves
# `pending` -> `sending` -> `sent` | `failed` | `unknown`, or `pending` -> `skipped` | `muted`
# (the statuses and their moves are declared in shared.channels).

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Row, select

from shared.channels import MessageStatus
from shared.infra.errors import HeraldError, not_found
from shared.infra.models import message_ids, messages

MAX_BATCH = 50
CRASHED = "delivery/crashed"  # the error of a message whose delivery kept dying
MAX_PAGE = 100


@dataclass(frozen=True)
class MessageFilter:
    """Which messages `messages.list` shows: a page of `limit` below `cursor`, filtered."""

    limit: int = 20
    cursor: int | None = None
    user_id: str | None = None
    notification_id: str | None = None
    status: str | None = None

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> MessageFilter:
        """Read the filter from query parameters; an empty parameter is no filter."""
        try:
            limit = int(args.get("limit", 20))
        except ValueError:
            raise HeraldError("query/invalid", "limit must be a whole number.") from None
        cursor = _cursor(args.get("cursor"))
        if not 1 <= limit <= MAX_PAGE:
            raise HeraldError("limit/invalid", f"limit must be between 1 and {MAX_PAGE}.")
        status = args.get("status") or None
        if status and status not in tuple(MessageStatus):
            choices = ", ".join(MessageStatus)
            raise HeraldError("status/invalid", f"status must be one of {choices}.")
        return cls(
            limit, cursor, args.get("userId") or None, args.get("notificationId") or None, status
        )


def _cursor(raw: str | None) -> int | None:
    """A `nextCursor` given back: a positive whole number that fits a 64-bit column."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise HeraldError("cursor/invalid", "cursor must be a nextCursor from an earlier page.")
    return int(raw)


@dataclass(frozen=True)
class MessagePage:
    """One page of `messages.list`, newest first, and the cursor of the next one."""

    rows: list[Row]
    next_cursor: str | None


def get_message(connection: Connection, project_id: str, message_id: str) -> Row:
    """A message by id (an id stacked onto another gives that one), or `message/notFound`."""
    row = connection.execute(
        select(messages)
        .join(
            message_ids,
            (message_ids.c.project_id == messages.c.project_id)
            & (message_ids.c.message_id == messages.c.id),
        )
        .where(message_ids.c.project_id == project_id, message_ids.c.id == message_id)
    ).first()
    if row is None:
        raise not_found("message", message_id)
    return row


def list_messages(connection: Connection, project_id: str, wanted: MessageFilter) -> MessagePage:
    """The project's messages newest first, filtered by user, notification and status."""
    query = select(messages).where(messages.c.project_id == project_id)
    for column, value in (
        (messages.c.user_id, wanted.user_id),
        (messages.c.notification_id, wanted.notification_id),
        (messages.c.status, wanted.status),
    ):
        if value:
            query = query.where(column == value)
    if wanted.cursor is not None:
        query = query.where(messages.c.pk < wanted.cursor)
    limit = wanted.limit
    rows = connection.execute(query.order_by(messages.c.pk.desc()).limit(limit + 1)).all()
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return MessagePage(rows[:limit], next_cursor)
