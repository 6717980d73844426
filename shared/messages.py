"""Messages: the ingress side of `messages.send` (validate, claim ids, stack or insert) and the
per-message result every reader shows.

A message's life: `queued` (or `scheduled` until its sendAt) -> `sent` once every channel is
final, or `failed` when its templates cannot render with its data. Each channel moves
`pending` -> `sending` -> `sent` | `failed` | `unknown`, or `pending` -> `skipped` | `muted`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import uuid6
from pydantic import Field
from sqlalchemy import Connection, insert, select, update

from shared.db import dialect_insert
from shared.errors import HeraldError
from shared.models import CHANNELS, message_ids, messages, notifications, stacks, users
from shared.notifications import EmailTemplate, WidgetTemplate
from shared.templates import compile_templates
from shared.users import fill_profiles
from shared.validation import (
    Country,
    Email,
    Id,
    Item,
    Language,
    Name,
    Telephone,
    Timezone,
    Url,
    parse_item,
)

MAX_BATCH = 50
FINAL = {"sent", "failed", "skipped", "muted", "unknown"}
FINAL |= {"delivered", "bounced", "complained", "rejected"}  # e-mail, after SES feedback
NEVER = datetime(9999, 1, 1, tzinfo=ZoneInfo("UTC"))

# messages.send field -> users column, for the profile fields a send may fill.
SEND_PROFILE_FIELDS = {
    "userEmail": "email",
    "userTelephone": "telephone",
    "userLanguage": "language",
    "userTimezone": "timezone",
    "userFirstName": "first_name",
    "userLastName": "last_name",
    "userPhotoURL": "photo_url",
    "userCountry": "country",
}


class MessageItem(Item):
    """One item of `messages.send`."""

    notificationId: Id
    userId: Id
    id: Id | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    incrementId: Id | None = None
    userEmail: Email | None = None
    userTelephone: Telephone | None = None
    userLanguage: Language | None = None
    userTimezone: Timezone | None = None
    userFirstName: Name | None = None
    userLastName: Name | None = None
    userPhotoURL: Url | None = None
    userCountry: Country | None = None
    widgetSettingsOverride: WidgetTemplate | None = None
    emailSettingsOverride: EmailTemplate | None = None
    sendAt: str | None = None


def parse_message(raw: Any) -> MessageItem:
    """Validate one message item; overrides are compiled so a syntax error is caught here."""
    item = parse_item(MessageItem, raw, required=("notificationId", "userId"))
    if isinstance(raw, dict) and "id" in raw and item.id is None:
        raise HeraldError("id/invalid", "id must be a string of 1 to 128 characters, or absent.")
    for name, channel in (("widgetSettingsOverride", "widget"), ("emailSettingsOverride", "email")):
        override = getattr(item, name)
        if override is not None:
            try:
                compile_templates({"override": {channel: _dump(override)}})
            except HeraldError as exc:
                raise HeraldError(f"{name}/invalid", exc.message) from None
    if item.sendAt is not None:
        _parse_send_at(item.sendAt, None)
    return item


def _dump(model) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True)


def _parse_send_at(value: str, timezone: str | None) -> datetime:
    """RFC 3339 with an offset is an instant; a local date-time is read in the user's zone."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HeraldError(
            "sendAt/invalid",
            f"sendAt {value!r} is not an RFC 3339 date-time "
            "such as '2026-12-01T09:00:00+01:00' or '2026-12-01T09:00:00'.",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone or "UTC"))
    return moment.astimezone(ZoneInfo("UTC"))


@dataclass
class Accepted:
    """What the ingress knows of one item after its transaction."""

    index: int
    id: str | None = None
    result: dict[str, Any] | None = None  # final answer known at the ingress
    pk: int | None = None  # a new message to enqueue and wait for
    refresh_pk: int | None = None  # a stacked message whose widget must be re-rendered
    profile: dict[str, Any] = field(default_factory=dict)


def error_result(message_id: str | None, error: HeraldError) -> dict[str, Any]:
    """The result of an item Herald did not take."""
    return {
        "id": message_id,
        "ok": False,
        "status": "failed",
        "error": error.code,
        "message": error.message,
        "channels": {},
    }


def validate_batch(raw_items: list[Any]) -> tuple[list[Accepted], list[MessageItem | None]]:
    """Validate every item; an invalid one gets its error result, the rest go on."""
    accepted, items = [], []
    seen: set[str] = set()
    for index, raw in enumerate(raw_items):
        entry = Accepted(index, raw.get("id") if isinstance(raw, dict) else None)
        try:
            item = parse_message(raw)
            if item.id is not None and item.id in seen:
                raise HeraldError("id/exists", f"id {item.id!r} appears earlier in this batch.")
        except HeraldError as exc:
            entry.result = error_result(entry.id if isinstance(entry.id, str) else None, exc)
            item = None
        else:
            entry.id = item.id = item.id or str(uuid6.uuid7())
            seen.add(item.id)
            entry.profile = {
                column: getattr(item, name)
                for name, column in SEND_PROFILE_FIELDS.items()
                if getattr(item, name) is not None
            }
        accepted.append(entry)
        items.append(item)
    return accepted, items


def accept_batch(
    connection: Connection,
    project_id: str,
    accepted: list[Accepted],
    items: list[MessageItem | None],
    now: datetime,
) -> None:
    """In the caller's transaction: fill profiles, claim ids, stack or insert the messages."""
    live = [(entry, item) for entry, item in zip(accepted, items, strict=True) if item]
    found = _notifications(connection, project_id, live)
    live = [(entry, item) for entry, item in live if entry.result is None]
    if not live:
        return
    profiles: dict[str, dict[str, Any]] = {}
    for entry, item in live:
        profile = profiles.setdefault(item.userId, {})
        for column, value in entry.profile.items():
            profile.setdefault(column, value)
    fill_profiles(connection, project_id, profiles, now)
    _claim_ids(connection, project_id, live)
    live = [(entry, item) for entry, item in live if entry.result is None]
    _place(connection, project_id, live, found, now)


def _notifications(connection: Connection, project_id: str, live) -> dict[str, Any]:
    """The notifications the items name; an item naming none of the project's is refused."""
    wanted = {item.notificationId for _, item in live}
    found = {
        row.id: row
        for row in connection.execute(
            select(notifications).where(
                notifications.c.project_id == project_id, notifications.c.id.in_(wanted)
            )
        )
    }
    for entry, item in live:
        if item.notificationId not in found:
            message = f"No notification with id {item.notificationId!r} in this project."
            entry.result = error_result(entry.id, HeraldError("notificationId/notFound", message))
    return found


def _claim_ids(connection: Connection, project_id: str, live) -> None:
    """Claim every id at once (sorted, for a steady lock order); a taken one is `id/exists`."""
    claimed = set(
        connection.execute(
            dialect_insert(connection)(message_ids)
            .on_conflict_do_nothing()
            .returning(message_ids.c.id),
            [
                {"project_id": project_id, "id": item.id, "message_id": item.id}
                for _, item in sorted(live, key=lambda pair: pair[1].id)
            ],
        ).scalars()
    )
    for entry, item in live:
        if item.id not in claimed:
            message = f"A message with id {item.id!r} was already accepted."
            entry.result = error_result(entry.id, HeraldError("id/exists", message))


def _place(connection: Connection, project_id: str, live, found, now: datetime) -> None:
    """Stack each item onto its open stack or insert it as a new message (queued or
    scheduled); the queued ones get their pk, to be enqueued."""
    timezones = _user_timezones(connection, project_id, live)
    rows = []
    for entry, item in live:
        notification = found[item.notificationId]
        row = _message_row(project_id, item, notification, now, timezones.get(item.userId))
        if item.incrementId:
            stacked = _stack_onto(connection, project_id, item, notification, now)
            if stacked is not None:
                entry.result = {
                    "id": stacked[0],
                    "ok": True,
                    "status": "incremented",
                    "increment": stacked[2],
                    "channels": {},
                }
                entry.refresh_pk = stacked[1] if notification.with_widget else None
                continue
            # Inserted at once: a later item of this batch may stack onto it.
            connection.execute(insert(messages).values(row))
        else:
            rows.append(row)
        if row["status"] == "scheduled":
            pending = {c: {"status": "pending"} for c in CHANNELS if row[f"{c}_status"]}
            entry.result = {
                "id": item.id,
                "ok": True,
                "status": "scheduled",
                "scheduledAt": row["scheduled_at"].isoformat(),
                "channels": pending,
            }
    if rows:
        connection.execute(insert(messages), rows)
    queued = [entry for entry, _ in live if entry.result is None]
    if queued:
        pks = dict(
            connection.execute(
                select(messages.c.id, messages.c.pk).where(
                    messages.c.project_id == project_id,
                    messages.c.id.in_([entry.id for entry in queued]),
                )
            ).all()
        )
        for entry in queued:
            entry.pk = pks[entry.id]


def _user_timezones(connection: Connection, project_id: str, live) -> dict[str, str]:
    """Time zones of the users whose sendAt is a local date-time."""
    local = {item.userId for _, item in live if item.sendAt and _is_local(item.sendAt)}
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


def _is_local(value: str) -> bool:
    """True for a date-time without offset (valid, since the item passed validation)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None


def _message_row(
    project_id: str, item: MessageItem, notification, now: datetime, timezone: str | None
) -> dict[str, Any]:
    """The row of a new message: its enabled channels pending, scheduled when sendAt is ahead."""
    scheduled_at = _parse_send_at(item.sendAt, timezone) if item.sendAt else None
    scheduled = scheduled_at is not None and scheduled_at > now
    row = {
        "project_id": project_id,
        "id": item.id,
        "user_id": item.userId,
        "notification_id": item.notificationId,
        "data": item.data,
        "increment_id": item.incrementId,
        "increment": 1,
        "status": "scheduled" if scheduled else "queued",
        "widget_override": _dump(item.widgetSettingsOverride)
        if item.widgetSettingsOverride
        else None,
        "email_override": _dump(item.emailSettingsOverride) if item.emailSettingsOverride else None,
        "scheduled_at": scheduled_at,
        "enqueued_at": None if scheduled else now,
        "feed_at": scheduled_at if scheduled else now,
        "created_at": now,
        "updated_at": now,
    }
    for channel, enabled in (
        ("email", notification.with_email),
        ("sms", notification.with_sms),
        ("widget", notification.with_widget),
    ):
        row[f"{channel}_status"] = "pending" if enabled else None
        row[f"{channel}_detail"] = None
        row[f"{channel}_provider_id"] = None
    return row


def _stack_onto(
    connection: Connection, project_id: str, item: MessageItem, notification, now: datetime
) -> tuple[str, int, int] | None:
    """Increment the open stack of this key: (message id, pk, increment); None opens a new one.

    The stack row is taken with an upsert whose update only applies to an expired stack, so
    of concurrent senders exactly one opens a stack and the others queue on its row lock.
    """
    key = {
        "project_id": project_id,
        "user_id": item.userId,
        "notification_id": item.notificationId,
        "increment_id": item.incrementId,
    }
    timeout = notification.stack_timeout
    expires = NEVER if timeout == 0 else now + timedelta(seconds=timeout)
    statement = dialect_insert(connection)(stacks).values(
        **key, message_id=item.id, expires_at=expires
    )
    opened = connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={"message_id": statement.excluded.message_id, "expires_at": expires},
            where=stacks.c.expires_at <= now,
        ).returning(stacks.c.message_id)
    ).first()
    if opened is not None:
        return None
    stack_id = connection.execute(
        select(stacks.c.message_id)
        .where(*(stacks.c[k] == v for k, v in key.items()))
        .with_for_update()
    ).scalar_one()
    target = connection.execute(
        select(messages.c.pk, messages.c.data, messages.c.increment)
        .where(messages.c.project_id == project_id, messages.c.id == stack_id)
        .with_for_update()
    ).first()
    if target is None:  # the stacked message was deleted: open a new stack on this one
        connection.execute(
            update(stacks)
            .where(*(stacks.c[k] == v for k, v in key.items()))
            .values(message_id=item.id, expires_at=expires)
        )
        return None
    increment = target.increment + 1
    connection.execute(
        update(messages)
        .where(messages.c.pk == target.pk)
        .values(
            increment=increment,
            data={**target.data, **item.data},
            read_at=None,
            feed_at=now,
            updated_at=now,
        )
    )
    connection.execute(
        update(message_ids)
        .where(message_ids.c.project_id == project_id, message_ids.c.id == item.id)
        .values(message_id=stack_id)
    )
    return stack_id, target.pk, increment


# What `message_result` reads of a row, and what delivery reads besides.
RESULT_COLUMNS = [
    messages.c[name]
    for name in ("pk", "id", "status", "error", "error_message", "scheduled_at", "increment")
] + [messages.c[f"{c}_{part}"] for c in CHANNELS for part in ("status", "detail", "provider_id")]
LOAD_COLUMNS = [column.name for column in RESULT_COLUMNS] + [
    "user_id",
    "notification_id",
    "data",
    "widget_override",
    "email_override",
    "sending_since",
]


def channel_json(row, channel: str) -> dict[str, Any]:
    """One channel's outcome as the API shows it."""
    out: dict[str, Any] = {"status": row._mapping[f"{channel}_status"]}
    detail = row._mapping[f"{channel}_detail"]
    provider_id = row._mapping[f"{channel}_provider_id"]
    if detail:
        out["reason"] = detail
    if provider_id:
        out["providerMessageId"] = provider_id
    return out


def message_result(row) -> dict[str, Any]:
    """The `messages.send` result of a message, from its row (worker and ingress alike)."""
    mapping = row._mapping
    result: dict[str, Any] = {"id": row.id, "ok": row.status != "failed", "status": row.status}
    if row.status == "failed":
        result.update(error=row.error, message=row.error_message)
    elif row.status == "scheduled":
        result["scheduledAt"] = row.scheduled_at.isoformat()
    for channel, key in (("email", "emailError"), ("sms", "smsError")):
        if mapping[f"{channel}_status"] in ("failed", "unknown") and row.status != "failed":
            result[key] = mapping[f"{channel}_detail"]
    result["channels"] = {
        channel: channel_json(row, channel)
        for channel in CHANNELS
        if mapping[f"{channel}_status"] is not None
    }
    return result


def message_json(row) -> dict[str, Any]:
    """A message as `messages.get` and `messages.list` show it."""
    result = message_result(row)
    stamp = {
        name: (value.isoformat() if value else None)
        for name, value in (
            ("scheduledAt", row.scheduled_at),
            ("readAt", row.read_at),
            ("createdAt", row.created_at),
            ("updatedAt", row.updated_at),
        )
    }
    out = {
        "id": row.id,
        "userId": row.user_id,
        "notificationId": row.notification_id,
        "status": row.status,
        "data": row.data,
        "increment": row.increment,
        "incrementId": row.increment_id,
        "language": row.language,
        "channels": result["channels"],
        **stamp,
    }
    if row.status == "failed":
        out.update(error=row.error, message=row.error_message)
    if row.widget_status is not None:
        out["widget"] = {
            "content": row.widget_content,
            "icon": row.widget_icon,
            "link": row.widget_link,
        }
    return out
