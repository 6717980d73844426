"""Accepting a `messages.send` batch: one transaction fills profiles, claims ids, places each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from shared.channels import Channel, ChannelStatus, MessageStatus
from shared.contacts.users import fill_profiles
from shared.infra.db import dialect_insert, transaction
from shared.infra.errors import HeraldError, Refused
from shared.infra.models import message_ids, messages, notifications, users
from shared.messages.results import error_result, incremented_result, scheduled_result
from shared.messages.send_at import SendAt
from shared.messages.stacking import StackKey, stack_onto

# What accepting a message needs of its notification: not its templates (a JSON document that
# would be decoded for every batch), which only the worker reads.
_NOTIFICATION_COLUMNS = [
    notifications.c.id,
    notifications.c.stack_timeout,
    *(channel.with_column for channel in Channel),
]


@dataclass(frozen=True)
class NewMessage:
    """A valid `messages.send` item: the message it asks for and the profile it fills."""

    id: str
    user_id: str
    notification_id: str
    data: dict[str, Any]
    increment_id: str | None = None
    send_at: SendAt | None = None
    widget_override: dict[str, Any] | None = None
    email_override: dict[str, Any] | None = None
    push_override: dict[str, Any] | None = None
    profile: dict[str, Any] = field(default_factory=dict)  # users column -> value


@dataclass(frozen=True)
class Outcome:
    """What the ingress made of one item: its answer when final here (refused, incremented,
    scheduled), else the pk of the new message to enqueue and wait for."""

    id: str | None
    result: dict[str, Any] | None = None
    pk: int | None = None
    refresh_pk: int | None = None  # a stacked message whose widget must be re-rendered


def accept_batch(
    engine: Engine, project_id: str, items: list[NewMessage | Refused], now: datetime
) -> list[Outcome]:
    """Each item's outcome in request order; the new messages are taken in one transaction."""
    new = [item for item in items if isinstance(item, NewMessage)]
    outcomes: dict[str, Outcome] = {}
    if new:
        with transaction(engine) as connection:
            outcomes = _accept(connection, project_id, new, now)
    return [
        Outcome(item.id, error_result(item.id, item.error))
        if isinstance(item, Refused)
        else outcomes[item.id]
        for item in items
    ]


def _accept(
    connection: Connection, project_id: str, new: list[NewMessage], now: datetime
) -> dict[str, Outcome]:
    """Refuse the items naming an unknown notification or a taken id; place the others."""
    found = _notifications(connection, project_id, new)
    refused = {
        m.id: HeraldError(
            "notificationId/notFound",
            f"No notification with id {m.notification_id!r} in this project.",
        )
        for m in new
        if m.notification_id not in found
    }
    known = [m for m in new if m.id not in refused]
    times: dict[str, datetime | None] = {}
    if known:
        _fill_profiles(connection, project_id, known, now)
        times = _send_times(connection, project_id, known, now, refused)
        known = [m for m in known if m.id not in refused]
    if known:
        claimed = _claim_ids(connection, project_id, known)
        for m in known:
            if m.id not in claimed:
                message = f"A message with id {m.id!r} was already accepted."
                refused[m.id] = HeraldError("id/exists", message)
    outcomes = {i: Outcome(i, error_result(i, error)) for i, error in refused.items()}
    placed = [m for m in known if m.id not in refused]
    outcomes.update(_place(connection, project_id, placed, found, times, now))
    return outcomes


def _send_times(
    connection: Connection,
    project_id: str,
    new: list[NewMessage],
    now: datetime,
    refused: dict[str, HeraldError],
) -> dict[str, datetime | None]:
    """Each item's sendAt as an instant, a local one read in its user's zone as just filled;
    an item whose sendAt is out of range there is added to `refused`."""
    timezones = _user_timezones(connection, project_id, new)
    times: dict[str, datetime | None] = {}
    for m in new:
        try:
            when = m.send_at and m.send_at.instant(timezones.get(m.user_id), now)
        except HeraldError as exc:
            refused[m.id] = exc
            continue
        times[m.id] = when or None
    return times


def _notifications(connection: Connection, project_id: str, new: list[NewMessage]) -> dict:
    """The project's notifications the items name, by id."""
    wanted = {m.notification_id for m in new}
    return {
        row.id: row
        for row in connection.execute(
            select(*_NOTIFICATION_COLUMNS).where(
                notifications.c.project_id == project_id, notifications.c.id.in_(wanted)
            )
        )
    }


def _fill_profiles(
    connection: Connection, project_id: str, new: list[NewMessage], now: datetime
) -> None:
    """Fill each user's empty profile fields, the first item naming a value winning."""
    profiles: dict[str, dict[str, Any]] = {}
    for m in new:
        profile = profiles.setdefault(m.user_id, {})
        for column, value in m.profile.items():
            profile.setdefault(column, value)
    fill_profiles(connection, project_id, profiles, now)


def _claim_ids(connection: Connection, project_id: str, new: list[NewMessage]) -> set[str]:
    """Claim every id at once (sorted, for a steady lock order); return the ids claimed."""
    return set(
        connection.execute(
            dialect_insert(connection)(message_ids)
            .on_conflict_do_nothing()
            .returning(message_ids.c.id),
            [
                {"project_id": project_id, "id": m.id, "message_id": m.id}
                for m in sorted(new, key=lambda m: m.id)
            ],
        ).scalars()
    )


def _place(
    connection: Connection,
    project_id: str,
    new: list[NewMessage],
    found: dict,
    times: dict[str, datetime | None],
    now: datetime,
) -> dict[str, Outcome]:
    """Stack each item onto its open stack or insert it as a new message (queued or
    scheduled); the queued ones get their pk, to be enqueued."""
    outcomes: dict[str, Outcome] = {}
    rows = []
    for m in new:
        notification = found[m.notification_id]
        row = _message_row(project_id, m, notification, now, times.get(m.id))
        if m.increment_id:
            key = StackKey(project_id, m.user_id, m.notification_id, m.increment_id)
            stacked = stack_onto(connection, key, m.id, m.data, notification.stack_timeout, now)
            if stacked is not None:
                refresh = stacked.pk if notification.with_widget else None
                result = incremented_result(stacked.message_id, stacked.increment)
                outcomes[m.id] = Outcome(m.id, result, refresh_pk=refresh)
                continue
            # Inserted at once: a later item of this batch may stack onto it.
            connection.execute(insert(messages).values(row))
        else:
            rows.append(row)
        if row["status"] == MessageStatus.SCHEDULED:
            outcomes[m.id] = Outcome(m.id, scheduled_result(row))
    if rows:
        connection.execute(insert(messages), rows)
    queued = [m.id for m in new if m.id not in outcomes]
    return outcomes | _queued(connection, project_id, queued)


def _queued(connection: Connection, project_id: str, ids: list[str]) -> dict[str, Outcome]:
    """The outcome of each new queued message: its pk, to enqueue and wait for."""
    if not ids:
        return {}
    pks = connection.execute(
        select(messages.c.id, messages.c.pk).where(
            messages.c.project_id == project_id, messages.c.id.in_(ids)
        )
    ).all()
    return {row.id: Outcome(row.id, pk=row.pk) for row in pks}


def _user_timezones(connection: Connection, project_id: str, new: list[NewMessage]) -> dict:
    """Time zones of the users whose sendAt is a local date-time."""
    local = {m.user_id for m in new if m.send_at and m.send_at.local}
    if not local:
        return {}
    return {
        r.id: r.timezone
        for r in connection.execute(
            select(users.c.id, users.c.timezone).where(
                users.c.project_id == project_id, users.c.id.in_(local)
            )
        )
        if r.timezone
    }


def _message_row(
    project_id: str, m: NewMessage, notification, now: datetime, scheduled_at: datetime | None
) -> dict[str, Any]:
    """The row of a new message: its enabled channels pending, scheduled when sendAt is ahead."""
    scheduled = scheduled_at is not None and scheduled_at > now
    row = {
        "project_id": project_id,
        "id": m.id,
        "user_id": m.user_id,
        "notification_id": m.notification_id,
        "data": m.data,
        "increment_id": m.increment_id,
        "increment": 1,
        "status": MessageStatus.SCHEDULED if scheduled else MessageStatus.QUEUED,
        "widget_override": m.widget_override,
        "email_override": m.email_override,
        "push_override": m.push_override,
        "scheduled_at": scheduled_at,
        "enqueued_at": None if scheduled else now,
        "feed_at": scheduled_at if scheduled else now,
        "created_at": now,
        "updated_at": now,
    }
    for channel in Channel:
        enabled = notification._mapping[channel.with_column]
        row[channel.status.name] = ChannelStatus.PENDING if enabled else None
        row[channel.detail.name] = None
        row[channel.provider_id.name] = None
    return row
