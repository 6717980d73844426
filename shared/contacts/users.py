"""Users (contacts): the profile schema, `users.upsert`, profile filling by sends, reading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from sqlalchemy import Connection, Engine, delete, func, select

from shared.channels import API_ORDER
from shared.contacts.devices import MOST_DEVICES, TOO_MANY, add_devices, room_left
from shared.infra.db import dialect_insert, merge_json, transaction
from shared.infra.errors import HeraldError, Refused, not_found
from shared.infra.models import devices, messages, stacks, users, utcnow
from shared.infra.validation import Country, Email, Language, Name, Telephone, Timezone, Url


@dataclass(frozen=True)
class ProfileField:
    """One reserved profile field: its API name, its `users` column, its validated type."""

    name: str
    column: str
    kind: Any

    @property
    def send_name(self) -> str:
        """Its name on a `messages.send` item: `firstName` -> `userFirstName`."""
        return "user" + self.name[0].upper() + self.name[1:]


# The profile schema, declared once: the request models and the column maps derive from it.
PROFILE = (
    ProfileField("email", "email", Email),
    ProfileField("telephone", "telephone", Telephone),
    ProfileField("firstName", "first_name", Name),
    ProfileField("lastName", "last_name", Name),
    ProfileField("photoURL", "photo_url", Url),
    ProfileField("language", "language", Language),
    ProfileField("timezone", "timezone", Timezone),
    ProfileField("country", "country", Country),
)
PROFILE_FIELDS = {field.name: field.column for field in PROFILE}

# In a batch's set of present fields: `preferences` was sent as null, replacing the entries.
RESET_PREFERENCES = "preferences:reset"


Preference = create_model(
    "Preference",
    __config__=ConfigDict(strict=True, extra="forbid"),
    __doc__="The channel mutes of one notification; a field left out means not muted.",
    notificationId=(str | None, None),
    **{channel.preference: (bool, False) for channel in API_ORDER},
)
MUTES = tuple(channel.preference for channel in API_ORDER)  # a stored entry's keys


@dataclass(frozen=True)
class UserChange:
    """One valid item of `users.upsert`: the fields it sent, by API name."""

    id: str
    fields: dict[str, Any]


def preferences_json(preferences: dict[str, BaseModel] | None) -> dict[str, dict]:
    """Stored preference entries: every flag explicit, so a JSON merge replaces whole entries."""
    return {
        key: {mute: getattr(p, mute) for mute in MUTES} for key, p in (preferences or {}).items()
    }


def upsert_batch(engine: Engine, project_id: str, items: list[UserChange | Refused]) -> list[dict]:
    """`users.upsert`: upsert the valid items in one transaction; each item's result in order."""
    created: set[str] = set()
    if any(isinstance(item, UserChange) for item in items):
        with transaction(engine) as connection:
            items = _within_device_bound(connection, project_id, items)
            changes = [item for item in items if isinstance(item, UserChange)]
            created = upsert_users(connection, project_id, changes) if changes else set()
            tokens: dict[str, tuple] = {}
            for change in changes:
                tokens[change.id] = tokens.get(change.id, ()) + change.fields.get("pushTokens", ())
            add_devices(connection, project_id, tokens)
    return [
        item.result()
        if isinstance(item, Refused)
        else {"id": item.id, "ok": True, "created": item.id in created}
        for item in items
    ]


def _within_device_bound(
    connection: Connection, project_id: str, items: list[UserChange | Refused]
) -> list[UserChange | Refused]:
    """The items, those that would give a user more than MOST_DEVICES devices refused."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        if isinstance(item, UserChange) and item.fields.get("pushTokens"):
            addresses = {token.address for token in item.fields["pushTokens"]}
            wanted.setdefault(item.id, set()).update(addresses)
    full = room_left(connection, project_id, wanted)
    refusal = HeraldError(TOO_MANY, f"A user has at most {MOST_DEVICES} push devices.")
    return [
        Refused(item.id, refusal)
        if isinstance(item, UserChange) and item.id in full and item.fields.get("pushTokens")
        else item
        for item in items
    ]


def upsert_users(connection: Connection, project_id: str, changes: list[UserChange]) -> set[str]:
    """Create or update the users; return the ids that were created.

    Items with the same id are merged in order. All rows go in one INSERT ... ON CONFLICT per
    distinct set of fields present (one statement for a uniform batch), sorted by id so that
    concurrent batches lock rows in the same order.
    """
    now = utcnow()
    created: set[str] = set()
    for present, rows in _rows_by_shape(_merge(changes), project_id, now).items():
        statement = _upsert_statement(connection, present)
        result = connection.execute(statement, rows)  # executemany: compiled once, batched
        created.update(r.id for r in result if r.created_at == now)
    return created


def _merge(changes: list[UserChange]) -> dict[str, tuple[dict[str, Any], set[str]]]:
    """Per user id: the column values of its items merged in order, and the fields present."""
    merged: dict[str, tuple[dict[str, Any], set[str]]] = {}
    for change in changes:
        row, present = merged.get(change.id, ({}, set()))
        for name, value in change.fields.items():
            if name == "pushTokens":  # the user's devices, stored beside
                continue
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
        merged[change.id] = (row, present)
    return merged


def _rows_by_shape(merged, project_id: str, now: datetime) -> dict[frozenset[str], list[dict]]:
    """The full rows, sorted by id, grouped by the set of fields present."""
    by_shape: dict[frozenset[str], list[dict[str, Any]]] = {}
    for user_id in sorted(merged):
        row, present = merged[user_id]
        values = {column: None for column in PROFILE_FIELDS.values()}
        values.update({"data": {}, "preferences": {}, **row})
        values.update(project_id=project_id, id=user_id, created_at=now, updated_at=now)
        by_shape.setdefault(frozenset(present), []).append(values)
    return by_shape


def _upsert_statement(connection: Connection, present: frozenset[str]):
    """INSERT ... ON CONFLICT updating only the present fields (preferences merged or reset)."""
    statement = dialect_insert(connection)(users)
    excluded = statement.excluded
    update = {
        column: excluded[column]
        for column in present
        if column not in ("preferences", RESET_PREFERENCES)
    }
    if RESET_PREFERENCES in present:
        update["preferences"] = excluded.preferences
    elif "preferences" in present:
        update["preferences"] = merge_json(connection, users.c.preferences, excluded.preferences)
    update["updated_at"] = excluded.updated_at
    return statement.on_conflict_do_update(
        index_elements=[users.c.project_id, users.c.id], set_=update
    ).returning(users.c.id, users.c.created_at)


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
    for field in PROFILE:
        out[field.name] = row._mapping[field.column]
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


def find_user(connection: Connection, project_id: str, wanted: str):
    """The user of this id, else the first (oldest) with this e-mail address, whatever its
    case; or `user/notFound`."""
    by_id = users.c.id == wanted
    by_email = func.lower(users.c.email) == wanted.strip().lower()
    row = connection.execute(
        select(users)
        .where(users.c.project_id == project_id, by_id | by_email)
        .order_by(by_id.desc(), users.c.created_at, users.c.id)
        .limit(1)
    ).first()
    if row is None:
        raise not_found("user", wanted)
    return row


def delete_users(connection: Connection, project_id: str, user_ids: list[str]) -> set[str]:
    """Remove the users, their messages, stacks and devices; return the ids that existed.

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
    for table in (messages, stacks, devices):
        connection.execute(
            delete(table).where(table.c.project_id == project_id, table.c.user_id.in_(user_ids))
        )
    return set(deleted)
