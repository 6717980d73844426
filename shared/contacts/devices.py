"""A user's push devices (SPEC §10): the tokens `users.upsert` takes in `pushTokens`, the
browsers the bell subscribes (`front push.subscribe`), each checked for its kind's shape;
stored once per user (a duplicate is ignored, a subscription's keys renewed), at most
`MOST_DEVICES` a user; listed by `users.get`, removed by `users.devices.remove` and when a
push service says one is gone."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Connection, delete, func, select

from shared.infra.db import dialect_insert
from shared.infra.errors import HeraldError, not_found
from shared.infra.models import devices, utcnow
from shared.webhooks.addresses import check_url, target

MOST_DEVICES = 20  # a user's devices; past it, an item adding more is refused
KINDS = ("fcm", "apns", "webpush")
_FCM = re.compile(r"[A-Za-z0-9_:.\-]{32,4096}")
_APNS = re.compile(r"(?:[0-9a-fA-F]{2}){32,100}")
TOO_MANY = "pushTokens/tooMany"


@dataclass(frozen=True)
class DeviceToken:
    """One device as given: its kind, its token or endpoint (`address`), a browser's keys."""

    kind: str
    address: str
    p256dh: str | None = None
    auth: str | None = None


def _invalid(message: str) -> HeraldError:
    return HeraldError("pushTokens/invalid", message)


def _b64(value: Any, name: str, size: int) -> bytes:
    """A base64url key of `size` bytes, as a browser gives it."""
    if not isinstance(value, str) or not value or len(value) > 128:
        raise _invalid(f"keys.{name} must be a base64url string.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(f"keys.{name} is not base64url.") from None
    if len(raw) != size:
        raise _invalid(f"keys.{name} must be {size} bytes, not {len(raw)}.")
    return raw


def _subscription(value: Any) -> DeviceToken:
    """A Web Push subscription: an endpoint URL and its P-256 and auth keys."""
    if not isinstance(value, dict) or set(value) - {"endpoint", "keys", "expirationTime"}:
        raise _invalid("subscription must be {endpoint, keys: {p256dh, auth}}.")
    endpoint, keys = value.get("endpoint"), value.get("keys")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 2048:
        raise _invalid("subscription.endpoint must be a URL of at most 2048 characters.")
    if not isinstance(keys, dict) or set(keys) != {"p256dh", "auth"}:
        raise _invalid("subscription.keys must have p256dh and auth.")
    point = _b64(keys["p256dh"], "p256dh", 65)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise _invalid("keys.p256dh is not a P-256 public key (an uncompressed point).") from None
    _b64(keys["auth"], "auth", 16)
    return DeviceToken("webpush", endpoint, keys["p256dh"], keys["auth"])


def parse_token(value: Any) -> DeviceToken:
    """One `pushTokens` entry, checked for its kind's shape; `pushTokens/invalid` otherwise."""
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        raise _invalid("Each push token is an object whose kind is fcm, apns or webpush.")
    kind = value["kind"]
    if kind == "webpush":
        if set(value) != {"kind", "subscription"}:
            raise _invalid("A webpush device gives subscription, no token.")
        return _subscription(value["subscription"])
    token = value.get("token")
    if set(value) != {"kind", "token"} or not isinstance(token, str):
        raise _invalid(f"An {kind} device gives its token, a string.")
    if kind == "fcm" and not _FCM.fullmatch(token):
        raise _invalid("An fcm token is 32 to 4096 characters of A-Z a-z 0-9 _ : . -")
    if kind == "apns" and not _APNS.fullmatch(token):
        raise _invalid("An apns token is a device token in hex: 64 to 200 hex digits.")
    return DeviceToken(kind, token.lower() if kind == "apns" else token)


def parse_tokens(value: Any) -> tuple[DeviceToken, ...]:
    """A `pushTokens` list: at most `MOST_DEVICES` entries, each checked."""
    if not isinstance(value, list):
        raise _invalid("pushTokens must be a list of push tokens.")
    if len(value) > MOST_DEVICES:
        raise HeraldError(TOO_MANY, f"A user has at most {MOST_DEVICES} devices.")
    return tuple(dict.fromkeys(parse_token(entry) for entry in value))


def check_endpoint(
    token: DeviceToken, allow_private: bool, looked_up: dict[str, str | None] | None = None
) -> None:
    """A subscription's endpoint is https and public (SPEC §9's address rule); nothing
    connects here. `pushTokens/invalid` naming what is wrong. `looked_up` keeps what each
    origin came to within one request, so a batch of subscriptions of one push service looks
    its host up once."""
    if token.kind != "webpush":
        return
    looked_up = {} if looked_up is None else looked_up
    try:
        scheme, host, port = check_url(token.address, allow_private)
    except HeraldError as error:
        raise _invalid(f"subscription.endpoint: {error.message}") from None
    origin = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
    if origin not in looked_up:
        try:
            target(f"{origin}/", allow_private)
            looked_up[origin] = None
        except HeraldError as error:
            looked_up[origin] = error.message.replace(
                "webhooks reach public addresses only", "a push endpoint must be public"
            )
    if looked_up[origin] is not None:
        raise _invalid(f"subscription.endpoint: {looked_up[origin]}")


def shortened(address: str | None) -> str | None:
    """A token or endpoint as shown back: its start and end."""
    if address is None or len(address) <= 24:
        return address
    return f"{address[:12]}…{address[-8:]}"


def room_left(connection: Connection, project_id: str, wanted: dict[str, set[str]]) -> set[str]:
    """The users among `wanted` (user id -> addresses to add) that would pass MOST_DEVICES."""
    if not wanted:
        return set()
    rows = connection.execute(
        select(devices.c.user_id, devices.c.address).where(
            devices.c.project_id == project_id, devices.c.user_id.in_(sorted(wanted))
        )
    )
    have: dict[str, set[str]] = {}
    for row in rows:
        have.setdefault(row.user_id, set()).add(row.address)
    return {user for user, new in wanted.items() if len(have.get(user, set()) | new) > MOST_DEVICES}


def add_devices(
    connection: Connection, project_id: str, tokens: dict[str, tuple[DeviceToken, ...]]
) -> None:
    """Store each user's devices: a duplicate is ignored, a subscription's keys renewed."""
    now = utcnow()
    rows = [
        {
            "id": f"dev_{secrets.token_hex(12)}",
            "project_id": project_id,
            "user_id": user_id,
            "kind": token.kind,
            "address": token.address,
            "p256dh": token.p256dh,
            "auth": token.auth,
            "created_at": now,
        }
        for user_id in sorted(tokens)
        for token in tokens[user_id]
    ]
    if not rows:
        return
    statement = dialect_insert(connection)(devices)
    statement = statement.on_conflict_do_update(
        index_elements=[devices.c.project_id, devices.c.user_id, devices.c.address],
        set_={"p256dh": statement.excluded.p256dh, "auth": statement.excluded.auth},
    )
    connection.execute(statement, rows)


def remove_device(connection: Connection, project_id: str, user_id: str, address: str) -> bool:
    """Remove one of a user's devices by its token or endpoint: whether it was there."""
    result = connection.execute(
        delete(devices).where(
            devices.c.project_id == project_id,
            devices.c.user_id == user_id,
            devices.c.address == address,
        )
    )
    return bool(result.rowcount)


def user_devices(connection: Connection, project_id: str, user_id: str) -> list[dict[str, Any]]:
    """A user's devices as `users.get` shows them (tokens and endpoints shortened)."""
    rows = connection.execute(
        select(devices)
        .where(devices.c.project_id == project_id, devices.c.user_id == user_id)
        .order_by(devices.c.pk)
    )
    return [
        {
            "id": row.id,
            "kind": row.kind,
            ("endpoint" if row.kind == "webpush" else "token"): shortened(row.address),
            "createdAt": row.created_at.isoformat(),
        }
        for row in rows
    ]


def device_address(connection: Connection, project_id: str, user_id: str, device_id: str) -> dict:
    """A device of the user by its id, as `users.devices.remove` names one: {userId, token} or
    {userId, endpoint}; or `device/notFound`."""
    row = connection.execute(
        select(devices.c.kind, devices.c.address).where(
            devices.c.project_id == project_id,
            devices.c.user_id == user_id,
            devices.c.id == device_id,
        )
    ).first()
    if row is None:
        raise not_found("device", device_id)
    return {"userId": user_id, ("endpoint" if row.kind == "webpush" else "token"): row.address}


def count_devices(connection: Connection, project_id: str, user_id: str) -> int:
    """How many devices a user has."""
    return connection.execute(
        select(func.count()).where(devices.c.project_id == project_id, devices.c.user_id == user_id)
    ).scalar_one()


def _address(body: dict[str, Any]) -> str:
    """The token or endpoint a removal names: exactly one of them, a string."""
    given = [body[name] for name in ("token", "endpoint") if name in body]
    if len(given) != 1 or not isinstance(given[0], str) or not 0 < len(given[0]) <= 4096:
        raise HeraldError("token/required", "Give the device's token or endpoint, one string.")
    return given[0]


def remove_named_device(connection: Connection, project_id: str, body: dict[str, Any]) -> dict:
    """`users.devices.remove`: {userId, token | endpoint}; whether it was there."""
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise HeraldError("userId/required", "userId is required, a string.")
    address = _address(body)
    if _APNS.fullmatch(address):
        address = address.lower()
    return {"ok": True, "removed": remove_device(connection, project_id, user_id, address)}


def subscribe_browser(
    connection: Connection, project_id: str, user_id: str, body: dict, allow_private: bool
) -> dict:
    """`front push.subscribe`: the bell's browser subscription added to its user's devices."""
    token = _subscription(body.get("subscription"))
    check_endpoint(token, allow_private)
    if room_left(connection, project_id, {user_id: {token.address}}):
        raise HeraldError(TOO_MANY, f"A user has at most {MOST_DEVICES} push devices.")
    add_devices(connection, project_id, {user_id: (token,)})
    return {"ok": True}


def unsubscribe_browser(connection: Connection, project_id: str, user_id: str, body: dict) -> dict:
    """`front push.unsubscribe`: {endpoint}; whether it was there."""
    endpoint = body.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 4096:
        raise HeraldError("endpoint/required", "endpoint is required, the subscription's URL.")
    return {"ok": True, "removed": remove_device(connection, project_id, user_id, endpoint)}
