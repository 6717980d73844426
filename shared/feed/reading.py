"""A user's in-app feed: who may read it (user HMAC, and the stream's short-lived tokens), its
pages, read state and the profile fields a browser may change (SPEC §4)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import create_model
from sqlalchemy import Connection, Select, func, select, update

from shared.channels import API_ORDER, Channel, ChannelStatus
from shared.contacts.users import PROFILE, PROFILE_FIELDS, Preference, UserChange, upsert_users
from shared.infra.errors import HeraldError, Unauthorized, not_found
from shared.infra.models import messages, notifications, users, utcnow
from shared.infra.secrets import SecretBox
from shared.infra.validation import Id, Item, parse_item
from shared.notifications.catalog import notification_json
from shared.tenancy.projects import widget_secrets

MAX_PAGE = 50
# Where a caller may send its userHmac instead of the query or the body (the bell does).
HMAC_HEADER = "X-Herald-User-Hmac"
# A stream token opens a stream for this long: the bell's EventSource carries one in its URL,
# where it can't send a header, so a URL that reaches a log is soon worth nothing.
STREAM_TOKEN_SECONDS = 60
# What a browser may change of its own profile; everything else it sends is ignored.
BROWSER_FIELDS = ("language", "timezone")
# Each channel's preference key, and the notification's column allowing it.
MUTE_FLAGS = {channel.preference: channel.allow_mute_column for channel in API_ORDER}
BrowserProfile = create_model(
    "BrowserProfile",
    __base__=Item,
    __doc__="What a browser may change of its user, validated as `users.upsert` validates it.",
    **{field.name: (field.kind | None, None) for field in PROFILE if field.name in BROWSER_FIELDS},
    preferences=(dict[Id, Preference] | None, None),
)
# A front call's user id is bounded as the backend API's are (`userId/invalid`).
FrontUserId = create_model("FrontUserId", __base__=Item, userId=(Id, ...))
# What the widget sees of a notification: its name and channel flags, not its templates.
FRONT_FIELDS = ("id", "name", *(channel.with_flag for channel in API_ORDER))
FRONT_FIELDS += tuple(channel.allow_mute_flag for channel in API_ORDER)

# The feed: a user's messages whose widget channel was delivered.
_FEED = (Channel.WIDGET.status == ChannelStatus.SENT,)
# A feed message as the widget reads it: its keys and the columns they show.
FRONT_MESSAGE = {"id": "id", "notificationId": "notification_id", "content": "widget_content"}
FRONT_MESSAGE |= {"icon": "widget_icon", "link": "widget_link", "createdAt": "created_at"}
FRONT_MESSAGE |= {"feedAt": "feed_at", "readAt": "read_at"}
_FRONT_COLUMNS = [messages.c[name] for name in FRONT_MESSAGE.values()]


def user_hmac(widget_secret: str, user_id: str) -> str:
    """The hex HMAC-SHA256 of a user id under the project's widget secret."""
    return hmac.new(widget_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def stream_token(widget_secret: str, user_id: str, expires: int) -> str:
    """`<expiry>.<mac>`: the user and the expiry (Unix seconds) signed with a key of its own,
    derived from the widget secret, so that a token is never a user HMAC or the reverse."""
    key = hmac.new(widget_secret.encode(), b"herald stream token", hashlib.sha256).digest()
    mac = hmac.new(key, f"{user_id}\n{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def issue_stream_token(
    connection: Connection, box: SecretBox, project_id: str, user_id: str
) -> dict[str, Any]:
    """A stream token of a verified user: `{"streamToken", "expiresIn"}` (seconds)."""
    expires = int(time.time()) + STREAM_TOKEN_SECONDS
    secret = widget_secrets(connection, box, project_id)[0]
    return {
        "streamToken": stream_token(secret, user_id, expires),
        "expiresIn": STREAM_TOKEN_SECONDS,
    }


def verify_user(
    connection: Connection, box: SecretBox, project_id: Any, user_id: Any, signature: Any
) -> None:
    """Raise Unauthorized `auth/invalid` unless the signature is the user's HMAC in that project
    (under its widget secret, or the previous one during its grace period)."""
    refused = "projectId, userId and userHmac (the hex HMAC-SHA256 of userId under the "
    refused += "project's widget secret) must be given and match."
    _verify(connection, box, (project_id, user_id, signature), user_hmac, refused)


def verify_stream(connection: Connection, box: SecretBox, *signed: Any, token: Any) -> None:
    """The stream's check of (project id, user id, userHmac): by its stream token when it has
    one (the bell's), else by its userHmac."""
    if token is None:
        return verify_user(connection, box, *signed)
    raw = str(token).partition(".")[0]
    expires = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else 0
    refused = "The streamToken is not this user's or has expired: get another from "
    refused += "POST /front/messages.streamToken."
    if expires < time.time():
        raise Unauthorized("auth/invalid", refused)
    expected = partial(stream_token, expires=expires)
    _verify(connection, box, (*signed[:2], token), expected, refused)


def _verify(connection: Connection, box: SecretBox, signed: tuple, expected, refused: str) -> None:
    """Refuse unless the signature is `expected(secret, user_id)` under one of the project's
    valid widget secrets."""
    project_id, user_id, signature = signed
    if not all(isinstance(v, str) and v for v in signed):
        raise Unauthorized("auth/invalid", refused)
    parse_item(FrontUserId, {"userId": user_id}, ())  # as the backend bounds it: userId/invalid
    secrets = widget_secrets(connection, box, project_id)
    # Compared whether or not the project exists, so timing tells nothing about either.
    matched = False
    for secret in secrets or ("",):
        made = expected(secret, user_id).encode()
        matched |= hmac.compare_digest(made, signature.lower().encode())
    if not matched or not secrets:
        raise Unauthorized("auth/invalid", refused)


def _shown(value: Any) -> Any:
    """A column's value as the API shows it: an instant in ISO 8601."""
    return value.isoformat() if isinstance(value, datetime) else value


def front_message(row) -> dict[str, Any]:
    """A feed message as the widget reads it."""
    return {key: _shown(row._mapping[column]) for key, column in FRONT_MESSAGE.items()}


def in_feed(project_id: str, user_id: str) -> tuple:
    """The WHERE clause of one user's feed."""
    return (messages.c.project_id == project_id, messages.c.user_id == user_id, *_FEED)


def unread_select(project_id: str, user_id: str) -> Select:
    """The query of how many feed messages the user has not read."""
    return (
        select(func.count())
        .select_from(messages)
        .where(*in_feed(project_id, user_id), messages.c.read_at.is_(None))
    )


def unread_count(connection: Connection, project_id: str, user_id: str) -> int:
    """How many feed messages the user has not read."""
    return connection.execute(unread_select(project_id, user_id)).scalar_one()


def feed_page(
    connection: Connection, project_id: str, user_id: str, skip: int, limit: int
) -> dict[str, Any]:
    """One page of the feed, newest first by feed time, with the total and unread counts."""
    rows = connection.execute(
        select(*_FRONT_COLUMNS)
        .where(*in_feed(project_id, user_id))
        .order_by(messages.c.feed_at.desc(), messages.c.pk.desc())
        .offset(skip)
        .limit(limit)
    ).all()
    total = connection.execute(
        select(func.count()).select_from(messages).where(*in_feed(project_id, user_id))
    ).scalar_one()
    return {
        "messages": [front_message(row) for row in rows],
        "total": total,
        "unread": unread_count(connection, project_id, user_id),
    }


def feed_message(connection: Connection, project_id: str, user_id: str, message_id: str):
    """One message of the user's feed, or None (another user's message is not there)."""
    return connection.execute(
        select(*_FRONT_COLUMNS).where(*in_feed(project_id, user_id), messages.c.id == message_id)
    ).first()


def mark_read(connection: Connection, project_id: str, user_id: str, message_id: Any):
    """Mark one of the user's messages read (kept as first read); `message/notFound` otherwise."""
    if not isinstance(message_id, str) or not message_id:
        raise HeraldError("messageId/required", "messageId is required and must be a string.")
    connection.execute(
        update(messages)
        .where(
            *in_feed(project_id, user_id),
            messages.c.id == message_id,
            messages.c.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    row = feed_message(connection, project_id, user_id, message_id)
    if row is None:
        raise not_found("message", message_id)
    return row


def mark_all_read(connection: Connection, project_id: str, user_id: str) -> tuple[datetime, int]:
    """Mark every unread message of the user read: (the instant, how many changed)."""
    now = utcnow()
    changed = connection.execute(
        update(messages)
        .where(*in_feed(project_id, user_id), messages.c.read_at.is_(None))
        .values(read_at=now)
    ).rowcount
    return now, changed


def front_user(connection: Connection, project_id: str, user_id: str) -> dict[str, Any]:
    """`users.get` of the frontend API: the profile and the project's notifications."""
    row = connection.execute(
        select(users).where(users.c.project_id == project_id, users.c.id == user_id)
    ).first()
    user: dict[str, Any] = {"id": user_id, **dict.fromkeys(PROFILE_FIELDS)}
    stored = {}
    if row is not None:
        user.update({name: row._mapping[column] for name, column in PROFILE_FIELDS.items()})
        stored = row.preferences or {}
    rows = connection.execute(
        select(notifications)
        .where(notifications.c.project_id == project_id)
        .order_by(notifications.c.name, notifications.c.id)
    ).all()
    user["preferences"] = {n.id: {"notificationId": n.id, **_flags(stored.get(n.id))} for n in rows}
    return {"user": user, "notifications": [_front_notification(n) for n in rows]}


def _flags(entry: dict | None) -> dict[str, bool]:
    """The three mute flags of a stored preference entry, each explicit."""
    return {flag: bool((entry or {}).get(flag)) for flag in MUTE_FLAGS}


def _front_notification(row) -> dict[str, Any]:
    """A notification as the widget sees it: its name and channel flags, no templates."""
    return {key: value for key, value in notification_json(row).items() if key in FRONT_FIELDS}


def set_profile(connection: Connection, project_id: str, user_id: str, sent: Any) -> None:
    """Apply what a browser may change (language, timezone, the mutes its notifications allow);
    every other field it sends back is ignored."""
    if not isinstance(sent, dict):
        raise HeraldError("user/invalid", "The body must have 'user', a JSON object.")
    item: dict[str, Any] = {name: sent[name] for name in BROWSER_FIELDS if name in sent}
    if "preferences" in sent:  # every entry's shape is checked, then the allowed ones kept
        if not isinstance(sent["preferences"], dict):
            message = "preferences must be an object of notification ids to mutes."
            raise HeraldError("preferences/invalid", message)
        parse_item(BrowserProfile, {"preferences": sent["preferences"]}, required=())
        item["preferences"] = _allowed_preferences(connection, project_id, user_id, sent)
    profile = parse_item(BrowserProfile, item, required=())
    fields = {name: getattr(profile, name) for name in profile.model_fields_set}
    upsert_users(connection, project_id, [UserChange(user_id, fields)])


def _allowed_preferences(
    connection: Connection, project_id: str, user_id: str, sent: dict
) -> dict[str, dict]:
    """The sent mutes of notifications that allow them; a flag they don't allow keeps its value."""
    stored = (
        connection.execute(
            select(users.c.preferences).where(
                users.c.project_id == project_id, users.c.id == user_id
            )
        ).scalar()
        or {}
    )
    allowed = {
        row.id: row
        for row in connection.execute(
            select(notifications).where(notifications.c.project_id == project_id)
        )
    }
    out = {}
    for notification_id, entry in sent["preferences"].items():
        notification = allowed.get(notification_id)
        if notification is None or not isinstance(entry, dict):
            continue
        flags = _flags(stored.get(notification_id))
        for flag, column in MUTE_FLAGS.items():
            if notification._mapping[column] and flag in entry:
                flags[flag] = entry[flag]
        out[notification_id] = flags
    return out
