"""One-click unsubscribe (RFC 8058, SPEC §8): the signed link an e-mail carries in its
`List-Unsubscribe` header, and the mute a POST to it makes.

The token names the project, the user and the notification, and is signed (itsdangerous, an
HMAC-SHA1 over the payload) with a key of its own derived from the project's widget secret:
every project has one from its creation, and a token of one project is never valid in
another. A token stays valid while the secret it was made with does: rotating the widget
secret ends the old links when its grace period ends (`herald project rotate-widget-secret`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from itsdangerous import BadData, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy import Connection, select

from shared.channels import Channel
from shared.contacts.users import Preference, UserChange, upsert_users
from shared.infra.errors import NotFound
from shared.infra.models import notifications, users
from shared.infra.secrets import SecretBox
from shared.tenancy.projects import widget_secrets
from shared.webhooks import preferences_events

PATH = "/unsubscribe/"
SALT = "herald.unsubscribe"
# The headers RFC 8058 asks of a one-click unsubscribe: the link, and that a POST is enough.
ONE_CLICK = "List-Unsubscribe=One-Click"
NOT_FOUND = "unsubscribe/notFound"


def _not_found() -> NotFound:
    """The one refusal of a link: what is wrong with it is not told."""
    message = "This unsubscribe link is not valid: it may have been cut short, or it is no "
    return NotFound(NOT_FOUND, message + "longer in use.")


@dataclass(frozen=True)
class Subscription:
    """What a token names: one notification's e-mail to one user of one project."""

    project_id: str
    user_id: str
    notification_id: str


def _key(widget_secret: str) -> bytes:
    """The token's own key, so that a token is never a user HMAC or a stream token."""
    return hmac.new(widget_secret.encode(), b"herald unsubscribe token", hashlib.sha256).digest()


def _serializer(secrets: tuple[str, ...]) -> URLSafeSerializer:
    """Signs with the first secret's key; verifies with any of them (itsdangerous signs with
    the last key of its list)."""
    return URLSafeSerializer([_key(secret) for secret in reversed(secrets)], salt=SALT)


@lru_cache(maxsize=1024)
def _sealed_serializer(box: SecretBox, stored_secret: str) -> URLSafeSerializer:
    """The signer of a project's widget secret as stored, opened once a process (the worker
    signs every e-mail of the project with it)."""
    return _serializer((box.open(stored_secret),))


def make_token(box: SecretBox, stored_secret: str, subscription: Subscription) -> str:
    """The URL-safe token of a subscription, under the project's stored widget secret."""
    payload = [subscription.project_id, subscription.user_id, subscription.notification_id]
    return _sealed_serializer(box, stored_secret).dumps(payload)


def unsubscribe_url(public_url: str, token: str) -> str:
    """The link an e-mail's `List-Unsubscribe` header carries."""
    return f"{public_url}{PATH}{token}"


def read_token(connection: Connection, box: SecretBox, token: Any) -> Subscription:
    """The subscription a token names, when its signature is one of its project's widget
    secrets; else `unsubscribe/notFound` (a changed byte, a project that is gone)."""
    if not (isinstance(token, str) and token.isascii() and len(token) <= 2048):
        raise _not_found()
    if not _canonical(token):
        raise _not_found()
    _, payload = URLSafeSerializer(b"", salt=SALT).loads_unsafe(token)
    if not (isinstance(payload, list) and len(payload) == 3):
        raise _not_found()
    if not all(isinstance(part, str) and part for part in payload):
        raise _not_found()
    secrets = widget_secrets(connection, box, payload[0])
    if not secrets:
        raise _not_found()
    try:
        _serializer(secrets).loads(token)
    except BadData:
        raise _not_found() from None
    return Subscription(*payload)


def _canonical(token: str) -> bool:
    """Whether each base64 part of the token is written as Herald writes it: base64 decoding
    ignores the unused bits of a last character, and a changed byte must never pass."""
    payload, _, signature = token.removeprefix(".").rpartition(".")
    try:
        return all(
            base64_encode(base64_decode(part)).decode() == part for part in (payload, signature)
        )
    except BadData:
        return False


def subscription_state(connection: Connection, subscription: Subscription):
    """The notification's row and the user's stored preference entry for it;
    `unsubscribe/notFound` when either is gone, or when the notification no longer lets its
    e-mail be muted (a mute would change nothing)."""
    notification = connection.execute(
        select(notifications).where(
            notifications.c.project_id == subscription.project_id,
            notifications.c.id == subscription.notification_id,
        )
    ).first()
    preferences = connection.execute(
        select(users.c.preferences).where(
            users.c.project_id == subscription.project_id, users.c.id == subscription.user_id
        )
    ).first()
    if notification is None or preferences is None:
        raise _not_found()
    if not notification._mapping[Channel.EMAIL.allow_mute_column.name]:
        raise _not_found()
    return notification, (preferences.preferences or {}).get(subscription.notification_id, {})


def mute_email(connection: Connection, subscription: Subscription) -> Any:
    """Mute the notification's e-mail for the user, as `users.upsert` would (the entry's other
    mutes kept), with its webhook events; the notification's row."""
    notification, entry = subscription_state(connection, subscription)
    flags = {channel.preference: bool(entry.get(channel.preference)) for channel in Channel}
    flags[Channel.EMAIL.preference] = True
    preferences = {subscription.notification_id: Preference(**flags)}
    change = UserChange(subscription.user_id, {"preferences": preferences})
    project_id, user_id = subscription.project_id, subscription.user_id
    with preferences_events(connection, project_id, user_id, subscription.notification_id):
        upsert_users(connection, project_id, [change])
    return notification
