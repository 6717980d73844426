"""schemathesis hooks (loaded by `SCHEMATHESIS_HOOKS`): the rules of a valid request that JSON
Schema can't state, applied to the requests it generates as valid.

The OpenAPI states every rule it can (patterns, bounds, unknown fields, enums). What is left is
a rule between two fields or against a database: an enabled channel needs its template in the
default language, two `templates` keys may not name one language, a template must be Jinja
that compiles, an e-mail address is one `email_validator` takes (no special-use domain such as
`.test`), quiet hours' `start` and `end` differ, a time zone is one of the IANA database's
and a language tag's subtags are in the IANA registry (the OpenAPI states their syntax), a
`messages.list` or `webhooks.deliveries` cursor is one an earlier page of the project gave (none
is, when generated), and a webhook URL's host resolves (the test's sink on loopback is put in,
the private-address switch being on, so what Herald posts stays on this machine; the
endpoint's id one of a few so that the project's 50 endpoints are never reached), and a push
device is one of its kind's shape: a browser's subscription keys a real P-256 point (its
endpoint the sink again).
Requests generated as invalid are left as they are, so the refusals are still checked.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import schemathesis
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from schemathesis import GenerationMode

from shared.infra.errors import HeraldError
from shared.infra.validation import check_email, check_language, check_timezone
from shared.notifications.catalog import REQUIRED
from shared.templating.rendering import compile_templates

ZONE = "Europe/London"
# The test's sink on loopback (tests/support/sink.py): webhooks and pushes go nowhere else.
SINK = os.environ.get("HERALD_SCHEMATHESIS_SINK", "http://127.0.0.1:9")
ADDRESS = "sender@herald.example.com"
ADDRESSES = ("from", "replyTo")


def _zone(value: Any) -> bool:
    """True if the value names a zone of the IANA database."""
    try:
        check_timezone(value)
    except (ValueError, TypeError):
        return False
    return True


def _language(value: Any) -> str | None:
    """The canonical tag of a language, or None when it is not one."""
    try:
        return check_language(value)
    except Exception:
        return None


def _valid(channel: str, field: str, text: Any) -> bool:
    """True if the template field would be accepted on its own."""
    try:
        if field in ADDRESSES:
            check_email(text)
        else:
            compile_templates({"en": {channel: {field: text}}})
    except (HeraldError, KeyError, ValueError):
        return False
    return True


def _fixed(channel: str, field: str, text: Any) -> Any:
    if field == "from" and text is not None:
        return ADDRESS  # a From must be one of the project's allowed senders: its own
    if text is None or _valid(channel, field, text):
        return text
    return ADDRESS if field in ADDRESSES else "text"


def _templates(raw: dict[str, Any]) -> dict[str, Any]:
    """One key per language, every text a template that compiles."""
    kept: dict[str, Any] = {}
    tags: set[str | None] = set()
    for key, channels in raw.items():
        if _language(key) is None or _language(key) in tags:
            continue
        tags.add(_language(key))
        if isinstance(channels, dict):
            channels = {
                channel: {field: _fixed(channel, field, text) for field, text in fields.items()}
                if isinstance(fields, dict)
                else fields
                for channel, fields in channels.items()
            }
        kept[key] = channels
    return kept


def _with_required(body: dict[str, Any]) -> None:
    """Each enabled channel's required fields in the default language's templates."""
    language = body.get("defaultLanguage", "en")
    templates = body["templates"]
    key = next((k for k in templates if _language(k) == _language(language)), language)
    own = templates.setdefault(key, {}) or {}
    templates[key] = own
    for flag, (channel, fields) in REQUIRED.items():
        if body.get(flag):
            template = own.get(channel) or {}
            own[channel] = template
            for field in (*fields, "text") if channel == "email" else fields:
                template[field] = template.get(field) or "text"


def valid_notification(body: dict[str, Any]) -> None:
    """A generated `notifications.upsert` body made to follow the rules between its fields."""
    if "defaultLanguage" in body and _language(body["defaultLanguage"]) is None:
        body["defaultLanguage"] = "en"
    body["templates"] = _templates(body.get("templates") or {})
    _with_required(body)
    quiet = body.get("quietHours")
    if isinstance(quiet, dict):
        if quiet.get("start") == quiet.get("end"):
            quiet["end"] = "23:59" if quiet["start"] != "23:59" else "00:00"
        if quiet.get("timezone") is not None and not _zone(quiet["timezone"]):
            quiet["timezone"] = ZONE


def valid_profile(body: dict[str, Any]) -> None:
    """A generated `front/users.setProfile` body with a time zone and a language that exist."""
    user = body.get("user")
    if not isinstance(user, dict):
        return
    if user.get("timezone") is not None and not _zone(user["timezone"]):
        user["timezone"] = ZONE
    if user.get("language") is not None and _language(user["language"]) is None:
        user["language"] = "en"


def valid_preview(body: dict[str, Any]) -> None:
    """A generated `templates.preview` body with one notification and a language that exists."""
    if "notification" in body and "notificationId" in body:
        del body["notification"]
    if "notification" not in body and "notificationId" not in body:
        body["notificationId"] = "order-shipped"
    if isinstance(body.get("notification"), dict):
        valid_notification(body["notification"])
    if body.get("language") is not None and _language(body["language"]) is None:
        body["language"] = "en"


def valid_webhook(body: dict[str, Any]) -> None:
    """A generated `webhooks.upsert` body with a public URL and one of 20 ids."""
    body["url"] = f"{SINK}/schemathesis"
    body["id"] = f"schemathesis-{len(str(body.get('id'))) % 20}"


def _subscription() -> dict[str, Any]:
    """A browser's subscription: a real P-256 public key, 16 auth bytes, a public endpoint."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    keys = {"p256dh": _b64(point), "auth": _b64(os.urandom(16))}
    return {"endpoint": f"{SINK}/push/schemathesis", "keys": keys}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _device(device: Any) -> Any:
    """A push token of its kind's shape (an FCM or APNs token, a browser's subscription)."""
    kind = device.get("kind") if isinstance(device, dict) else None
    if kind == "webpush":
        return {"kind": kind, "subscription": _subscription()}
    if kind == "apns":
        return {"kind": kind, "token": "ab" * 32}
    return {"kind": "fcm", "token": "schemathesis:" + "x" * 40}


def valid_users(body: dict[str, Any]) -> None:
    """A generated `users.upsert` body whose push tokens are of their kinds' shapes."""
    for user in body.get("users") or []:
        if isinstance(user, dict) and isinstance(user.get("pushTokens"), list):
            user["pushTokens"] = [_device(device) for device in user["pushTokens"][:3]]


def valid_push_subscription(body: dict[str, Any]) -> None:
    """A generated `front/push.subscribe` body with a browser's real subscription."""
    body["subscription"] = _subscription()


MAKE_VALID = {
    "/users.upsert": valid_users,
    "/front/push.subscribe": valid_push_subscription,
    "/notifications.upsert": valid_notification,
    "/front/users.setProfile": valid_profile,
    "/templates.preview": valid_preview,
    "/webhooks.upsert": valid_webhook,
}
CURSORS = ("/messages.list", "/webhooks.deliveries")


@schemathesis.hook
def map_case(context, case):
    """Requests generated as valid are made to follow the rules JSON Schema can't state."""
    make_valid = MAKE_VALID.get(case.operation.path)
    meta = case.meta
    positive = meta is None or meta.generation.mode == GenerationMode.POSITIVE
    if make_valid and positive and isinstance(case.body, dict):
        make_valid(case.body)
    if case.operation.path in CURSORS and positive and isinstance(case.query, dict):
        case.query.pop("cursor", None)  # a cursor names a message (a delivery) of the project
    return case
