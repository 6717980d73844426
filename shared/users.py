"""Users (contacts): validation, the bulk upsert of `users.upsert`, profile filling by sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, delete, func, select

from shared.db import dialect_insert, merge_json
from shared.errors import not_found
from shared.models import messages, stacks, users, utcnow
from shared.validation import (
    Country,
    Data,
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

# API name -> column, for the reserved profile fields.
PROFILE_FIELDS = {
    "email": "email",
    "telephone": "telephone",
    "firstName": "first_name",
    "lastName": "last_name",
    "photoURL": "photo_url",
    "language": "language",
    "timezone": "timezone",
    "country": "country",
}


# In a batch's set of present fields: `preferences` was sent as null, replacing the entries.
RESET_PREFERENCES = "preferences:reset"


class Preference(BaseModel):
    """The channel mutes of one notification; a field left out means not muted."""

    model_config = ConfigDict(strict=True, extra="forbid")
    notificationId: str | None = None
    muteWidget: bool = False
    muteEmail: bool = False
    muteSMS: bool = False


class UserItem(Item):
    """One item of `users.upsert`."""

    id: Id
    email: Email | None = None
    telephone: Telephone | None = None
    firstName: Name | None = None
    lastName: Name | None = None
    photoURL: Url | None = None
    language: Language | None = None
    timezone: Timezone | None = None
    country: Country | None = None
    data: Data | None = None
    preferences: dict[Id, Preference] | None = Field(default=None)


def parse_user(raw: Any) -> UserItem:
    """Validate one user item (HeraldError on the first problem)."""
    return parse_item(UserItem, raw, required=("id",))


def preferences_json(preferences: dict[str, Preference] | None) -> dict[str, dict]:
    """Stored preference entries: every flag explicit, so a JSON merge replaces whole entries."""
    return {
        key: {"muteWidget": p.muteWidget, "muteEmail": p.muteEmail, "muteSMS": p.muteSMS}
        for key, p in (preferences or {}).items()
    }


def upsert_users(connection: Connection, project_id: str, items: list[UserItem]) -> set[str]:
    """Create or update the users; return the ids that were created.

    Items with the same id are merged in order. All rows go in one INSERT ... ON CONFLICT per
    distinct set of fields present (one statement for a uniform batch), sorted by id so that
    concurrent batches lock rows in the same order.
    """
    now = utcnow()
    merged: dict[str, tuple[dict[str, Any], set[str]]] = {}
    for item in items:
        row, present = merged.get(item.id, ({}, set()))
        for name in item.model_fields_set - {"id"}:
            value = getattr(item, name)
            if name == "preferences" and value is None:  # null clears every entry
                row["preferences"] = {}
                present.add(RESET_PREFERENCES)
            elif name == "preferences":
                row["preferences"] = {**row.get("preferences", {}), **preferences_json(value)}
            elif name == "data":
                row["data"] = value or {}
            else:
                row[PROFILE_FIELDS[name]] = value
            present.add(PROFILE_FIELDS.get(name, name))
        merged[item.id] = (row, present)

    by_shape: dict[frozenset[str], list[dict[str, Any]]] = {}
    for user_id in sorted(merged):
        row, present = merged[user_id]
        values = {column: None for column in PROFILE_FIELDS.values()}
        values.update({"data": {}, "preferences": {}, **row})
        values.update(project_id=project_id, id=user_id, created_at=now, updated_at=now)
        by_shape.setdefault(frozenset(present), []).append(values)

    created: set[str] = set()
    insert = dialect_insert(connection)
    for present, rows in by_shape.items():
        statement = insert(users)
        excluded = statement.excluded
        update = {
            column: excluded[column]
            for column in present
            if column not in ("preferences", RESET_PREFERENCES)
        }
        if RESET_PREFERENCES in present:
            update["preferences"] = excluded.preferences
        elif "preferences" in present:
            update["preferences"] = merge_json(
                connection, users.c.preferences, excluded.preferences
            )
        update["updated_at"] = excluded.updated_at
        statement = statement.on_conflict_do_update(
            index_elements=[users.c.project_id, users.c.id], set_=update
        ).returning(users.c.id, users.c.created_at)
        result = connection.execute(statement, rows)  # executemany: compiled once, batched
        created.update(r.id for r in result if r.created_at == now)
    return created


def fill_profiles(
    connection: Connection, project_id: str, profiles: dict[str, dict[str, Any]], now: datetime
) -> None:
    """Create unknown users and fill only the empty profile fields of known ones (sends)."""
    if not profiles:
        return
    filled = sorted({column for profile in profiles.values() for column in profile})
    rows = [
        {
            **dict.fromkeys(filled),
            **profiles[user_id],
            "project_id": project_id,
            "id": user_id,
            "data": {},
            "preferences": {},
            "created_at": now,
            "updated_at": now,
        }
        for user_id in sorted(profiles)
    ]
    statement = dialect_insert(connection)(users)
    if filled:
        update = {c: func.coalesce(users.c[c], statement.excluded[c]) for c in filled}
        statement = statement.on_conflict_do_update(
            index_elements=[users.c.project_id, users.c.id], set_=update
        )
    else:
        statement = statement.on_conflict_do_nothing()
    # A list of parameters, not .values(rows): the compiled statement is cached and the rows
    # are batched into one multi-row INSERT by the driver layer.
    connection.execute(statement, rows)


def user_json(row) -> dict[str, Any]:
    """A user as the API shows it."""
    out: dict[str, Any] = {"id": row.id}
    for name, column in PROFILE_FIELDS.items():
        out[name] = row._mapping[column]
    out["data"] = row.data
    out["preferences"] = {
        key: {"notificationId": key, **value} for key, value in (row.preferences or {}).items()
    }
    out["createdAt"] = row.created_at.isoformat()
    out["updatedAt"] = row.updated_at.isoformat()
    return out


def get_user(connection: Connection, project_id: str, user_id: str):
    """One user row, or `user/notFound`."""
    row = connection.execute(
        select(users).where(users.c.project_id == project_id, users.c.id == user_id)
    ).first()
    if row is None:
        raise not_found("user", user_id)
    return row


def delete_users(connection: Connection, project_id: str, user_ids: list[str]) -> set[str]:
    """Remove the users, their messages and their stacks; return the ids that existed.

    The claimed message ids stay, so a retried send of a deleted message still answers
    `id/exists` instead of sending again.
    """
    deleted = (
        connection.execute(
            delete(users)
            .where(users.c.project_id == project_id, users.c.id.in_(user_ids))
            .returning(users.c.id)
        )
        .scalars()
        .all()
    )
    for table in (messages, stacks):
        connection.execute(
            delete(table).where(table.c.project_id == project_id, table.c.user_id.in_(user_ids))
        )
    return set(deleted)
