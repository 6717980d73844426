"""Stacking: the open stack of a (user, notification, incrementId) and incrementing its message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update

from shared.infra.db import dialect_insert
from shared.infra.models import message_ids, messages, stacks

NEVER = datetime(9999, 1, 1, tzinfo=ZoneInfo("UTC"))


@dataclass(frozen=True)
class StackKey:
    """What makes items stack: the same user, notification and incrementId in a project."""

    project_id: str
    user_id: str
    notification_id: str
    increment_id: str

    def where(self) -> list:
        """The conditions selecting this key's stack row."""
        return [stacks.c[name] == value for name, value in vars(self).items()]


@dataclass(frozen=True)
class Stacked:
    """An item stacked onto an open message: that message's id and pk, and its new count."""

    message_id: str
    pk: int
    increment: int


def stack_onto(
    connection: Connection,
    key: StackKey,
    message_id: str,
    data: dict[str, Any],
    timeout: int,
    now: datetime,
) -> Stacked | None:
    """Increment the open stack of this key; None when `message_id` opens a new one instead.

    The stack row is taken with an upsert whose update only applies to an expired stack, so
    of concurrent senders exactly one opens a stack and the others queue on its row lock.
    """
    expires = NEVER if timeout == 0 else now + timedelta(seconds=timeout)
    if _open(connection, key, message_id, expires, now):
        return None
    stack_id = connection.execute(
        select(stacks.c.message_id).where(*key.where()).with_for_update()
    ).scalar_one()
    target = connection.execute(
        select(messages.c.pk, messages.c.data, messages.c.increment)
        .where(messages.c.project_id == key.project_id, messages.c.id == stack_id)
        .with_for_update()
    ).first()
    if target is None:  # the stacked message was deleted: open a new stack on this one
        connection.execute(
            update(stacks).where(*key.where()).values(message_id=message_id, expires_at=expires)
        )
        return None
    stacked = Stacked(stack_id, target.pk, target.increment + 1)
    _increment(connection, stacked, {**target.data, **data}, now)
    connection.execute(
        update(message_ids)
        .where(message_ids.c.project_id == key.project_id, message_ids.c.id == message_id)
        .values(message_id=stack_id)
    )
    return stacked


def _open(
    connection: Connection, key: StackKey, message_id: str, expires: datetime, now: datetime
) -> bool:
    """Open a stack on `message_id` unless one of this key is open: True if it opened."""
    statement = dialect_insert(connection)(stacks).values(
        **vars(key), message_id=message_id, expires_at=expires
    )
    opened = connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(vars(key)),
            set_={"message_id": statement.excluded.message_id, "expires_at": expires},
            where=stacks.c.expires_at <= now,
        ).returning(stacks.c.message_id)
    ).first()
    return opened is not None


def _increment(connection: Connection, stacked: Stacked, data: dict, now: datetime) -> None:
    """Count one more on the stacked message, merge its data, move it up the feed, unread."""
    connection.execute(
        update(messages)
        .where(messages.c.pk == stacked.pk)
        .values(increment=stacked.increment, data=data, read_at=None, feed_at=now, updated_at=now)
    )
