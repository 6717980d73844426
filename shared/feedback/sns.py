"""Amazon SNS message signatures: the canonical string, the signing certificate, the check.

SNS signs each message it posts to an HTTPS subscriber with the private key of a certificate
it publishes at `SigningCertURL`: SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over
"Key\\nValue\\n" pairs of the message's fields in a fixed order per message type. A certificate
is fetched only from an allowed host (HTTPS unless the settings allow HTTP) and kept in memory.
"""

from __future__ import annotations

import base64
import binascii
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.infra.config import Settings
from shared.infra.errors import Forbidden

SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_FIELDS["UnsubscribeConfirmation"] = SIGNED_FIELDS["SubscriptionConfirmation"]
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
FETCH_TIMEOUT = 5.0

_certificates: dict[str, x509.Certificate] = {}
_certificates_lock = threading.Lock()


def refused(reason: str) -> Forbidden:
    """The refusal every unverifiable message gets: nothing it says is acted on."""
    return Forbidden("signature/invalid", f"The SNS message was refused: {reason}.")


def canonical_string(message: dict[str, Any]) -> bytes:
    """The bytes SNS signed for this message (fields absent from it, like Subject, skipped)."""
    fields = SIGNED_FIELDS.get(message.get("Type"))
    if fields is None:
        raise refused(f"unknown message type {message.get('Type')!r}")
    parts = []
    for name in fields:
        value = message.get(name)
        if value is None:
            if name == "Subject":
                continue
            raise refused(f"{name} is missing")
        if not isinstance(value, str):
            raise refused(f"{name} is not a string")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode("utf-8")


def url_allowed(url: Any, settings: Settings) -> bool:
    """True for an HTTPS (or, when allowed, HTTP) URL on an allowed SNS host."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    schemes = ("https", "http") if settings.sns_allow_http else ("https",)
    host = (parts.hostname or "").lower()
    return parts.scheme in schemes and host in {h.lower() for h in settings.allowed_sns_hosts}


def verify_message(message: dict[str, Any], settings: Settings, now: datetime | None = None):
    """Raise `Forbidden` (`signature/invalid`) unless SNS signed this message, recently, for a
    topic Herald listens to."""
    signed = canonical_string(message)
    if settings.sns_topic_arns and message.get("TopicArn") not in settings.sns_topic_arns:
        raise refused("its topic is not one Herald listens to")
    _check_timestamp(message.get("Timestamp"), settings, now or datetime.now(UTC))
    algorithm = HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise refused("SignatureVersion must be 1 or 2")
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except (binascii.Error, ValueError):
        raise refused("the signature is not base64") from None
    key = signing_certificate(message.get("SigningCertURL"), settings).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise refused("the signing certificate does not hold an RSA key")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise refused("the signature does not match") from None


def _check_timestamp(raw: Any, settings: Settings, now: datetime) -> None:
    """Refuse a message older than the allowed age (a replay) or dated in the future."""
    try:
        stamp = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise refused("its Timestamp is not a date-time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    age = now - stamp
    if age > timedelta(seconds=settings.sns_max_age):
        raise refused("it is older than the allowed age (a replay?)")
    if age < -timedelta(minutes=5):
        raise refused("its Timestamp is in the future")


def signing_certificate(url: Any, settings: Settings) -> x509.Certificate:
    """The certificate at an allowed URL, fetched once per process."""
    if not url_allowed(url, settings):
        raise refused("its signing certificate is not from an allowed SNS host")
    with _certificates_lock:
        cached = _certificates.get(url)
    if cached is None:
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
                cached = x509.load_pem_x509_certificate(response.read())
        except (OSError, ValueError):
            raise refused("its signing certificate could not be fetched or read") from None
        with _certificates_lock:
            _certificates[url] = cached
    if cached.not_valid_after_utc < datetime.now(UTC):
        raise refused("its signing certificate has expired")
    return cached
