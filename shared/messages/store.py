"""Messages as stored: their life cycle, and reading them back by id or as a filtered list."""

# A message's life: `queued` (or `scheduled` until its sendAt) -> `sent` once every channel is
# final, or `failed` when its templates cannot render with its data. Each channel moves
# `pending` -> `sending` -> `sent` | `failed` | `unknown`, or `pending` -> `skipped` | `muted`
# (the statuses and their moves are declared in shared.channels).

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Row, select

from shared.channels import Channel, MessageStatus
from shared.infra.errors import HeraldError, not_found
from shared.infra.models import message_ids, messages, push_sends

MAX_BATCH = 50
CRASHED = "delivery/crashed"  # the error of a message whose delivery kept dying
MAX_PAGE = 100


@dataclass(frozen=True)
class MessageFilter:
    """Which messages `messages.list` shows: a page of `limit` below `cursor`, filtered."""

    limit: int = 20
    cursor: str | None = None  # the id of the message the previous page ended with
    user_id: str | None = None
    notification_id: str | None = None
    status: str | None = None
    channel: Channel | None = None  # only messages that use this channel
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before

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
        status = _one_of(args, "status", tuple(MessageStatus))
        channel = _one_of(args, "channel", tuple(Channel))
        return cls(
            limit,
            cursor,
            args.get("userId") or None,
            args.get("notificationId") or None,
            status,
            Channel(channel) if channel else None,
            _instant(args, "since"),
            _instant(args, "until"),
        )


def _one_of(args: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    """A query parameter that must be one of these values, or `<name>/invalid`."""
    value = args.get(name) or None
    if value and value not in choices:
        raise HeraldError(f"{name}/invalid", f"{name} must be one of {', '.join(choices)}.")
    return value


def _instant(args: Mapping[str, str], name: str) -> datetime | None:
    """A query parameter that must be an RFC 3339 time (UTC without an offset), or
    `<name>/invalid`."""
    value = args.get(name) or None
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise HeraldError(
            f"{name}/invalid", f"{name} must be a time such as 2025-01-31T09:30:00Z."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A cursor names the last message of a page by its id, which the project sees anyway: unlike
# the row's key, one sequence for every project, it tells nothing of the others' messages.
def _bad_cursor() -> HeraldError:
    """`cursor/invalid`."""
    return HeraldError(
        "cursor/invalid",
        "cursor must be the nextCursor of an earlier page of this project's messages "
        "(one whose message has been deleted since no longer is: start from the first page).",
    )


def next_cursor(message_id: str) -> str:
    """The `nextCursor` of a page that ends with this message: its id, base64url-encoded."""
    return base64.urlsafe_b64encode(message_id.encode()).decode().rstrip("=")


def _cursor(raw: str | None) -> str | None:
    """The message id a `nextCursor` given back names, or `cursor/invalid`."""
    if not raw:
        return None
    if not raw.isascii() or len(raw) > 700:
        raise _bad_cursor()
    try:
        message_id = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not message_id or "\x00" in message_id or next_cursor(message_id) != raw:
        raise _bad_cursor()
    return message_id


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
    """The project's messages newest first, filtered by user, notification, status, channel
    and creation time; a cursor naming no message of the project is `cursor/invalid`."""
    query = select(messages).where(messages.c.project_id == project_id)
    for column, value in (
        (messages.c.user_id, wanted.user_id),
        (messages.c.notification_id, wanted.notification_id),
        (messages.c.status, wanted.status),
    ):
        if value:
            query = query.where(column == value)
    if wanted.channel is not None:
        query = query.where(wanted.channel.status.is_not(None))
    if wanted.since is not None:
        query = query.where(messages.c.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(messages.c.created_at < wanted.until)
    if wanted.cursor is not None:
        query = query.where(messages.c.pk < _cursor_pk(connection, project_id, wanted.cursor))
    limit = wanted.limit
    rows = connection.execute(query.order_by(messages.c.pk.desc()).limit(limit + 1)).all()
    cursor = next_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return MessagePage(rows[:limit], cursor)


def _cursor_pk(connection: Connection, project_id: str, message_id: str) -> int:
    """The key of the project's message a cursor names, or `cursor/invalid`."""
    pk = connection.execute(
        select(messages.c.pk).where(
            messages.c.project_id == project_id, messages.c.id == message_id
        )
    ).scalar()
    if pk is None:
        raise _bad_cursor()
    return pk


def push_sends_of(connection: Connection, rows: list[Row]) -> dict[int, list[Row]]:
    """Each message's devices' pushes (SPEC §10), by message pk, for those that push."""
    pks = [row.pk for row in rows if row.push_status is not None]
    if not pks:
        return {}
    found: dict[int, list[Row]] = {}
    query = select(push_sends).where(push_sends.c.message_pk.in_(pks))
    for sent in connection.execute(query.order_by(push_sends.c.updated_at, push_sends.c.device_id)):
        found.setdefault(sent.message_pk, []).append(sent)
    return found
