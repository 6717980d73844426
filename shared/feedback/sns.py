"""Amazon SNS message signatures: the canonical string, the signing certificate, the check.

SNS signs each message it posts to an HTTPS subscriber with the private key of a certificate
it publishes at `SigningCertURL`: SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over
"Key\\nValue\\n" pairs of the message's fields in a fixed order per message type.

Herald listens only to the topics of `HERALD_SNS_TOPIC_ARNS`: without any, every message is
refused. Every check that needs no network comes first (topic, type, fields, age, signature
encoding, the certificate URL's form), so a certificate is fetched only for a well-formed
message of an allowed topic, from `https://<allowed host>/<name>.pem`; the last few
certificates are kept in memory.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.request
from datetime import UTC, datetime, timedelta
from functools import lru_cache
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
CERTIFICATES_KEPT = 16  # SNS signs with one certificate a region, replaced every few months
CERTIFICATE_BYTES = 64 * 1024
CERTIFICATE_PATH = re.compile(r"/[A-Za-z0-9._-]+\.pem")


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


def require_topics(settings: Settings) -> None:
    """Raise `Forbidden` (`sns/notConfigured`) when no topic is allowed: without the setting,
    anyone could subscribe Herald to a topic of their own."""
    if not settings.sns_topic_arns:
        raise Forbidden(
            "sns/notConfigured",
            "SES feedback is off: set HERALD_SNS_TOPIC_ARNS to the ARN of the SNS topic SES "
            "publishes to, so that only its messages are taken.",
        )


def url_allowed(url: Any, settings: Settings) -> bool:
    """True for an HTTPS (or, when allowed, HTTP) URL on an allowed SNS host, without user
    information."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    schemes = ("https", "http") if settings.sns_allow_http else ("https",)
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None:
        return False
    return parts.scheme in schemes and host in {h.lower() for h in settings.allowed_sns_hosts}


def certificate_url_allowed(url: Any, settings: Settings) -> bool:
    """True for a URL of the form SNS gives its certificates: an allowed URL whose path is
    one `.pem` file name, with no query or fragment."""
    if not url_allowed(url, settings):
        return False
    parts = urlsplit(url)
    return bool(CERTIFICATE_PATH.fullmatch(parts.path)) and not (parts.query or parts.fragment)


def verify_message(message: dict[str, Any], settings: Settings, now: datetime | None = None):
    """Raise `Forbidden` unless SNS signed this message, recently, for a topic Herald listens
    to: `sns/notConfigured`, `sns/topicNotAllowed` or `signature/invalid`."""
    require_topics(settings)
    signed = canonical_string(message)
    if message["TopicArn"] not in settings.sns_topic_arns:
        raise Forbidden(
            "sns/topicNotAllowed",
            "The SNS message was refused: its topic is not in HERALD_SNS_TOPIC_ARNS.",
        )
    _check_timestamp(message.get("Timestamp"), settings, now or datetime.now(UTC))
    algorithm = HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise refused("SignatureVersion must be 1 or 2")
    signature = _signature(message.get("Signature"))
    url = message.get("SigningCertURL")
    if not certificate_url_allowed(url, settings):
        raise refused("its SigningCertURL is not an SNS certificate URL on an allowed host")
    key = signing_certificate(url).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise refused("the signing certificate does not hold an RSA key")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise refused("the signature does not match") from None


def _signature(raw: Any) -> bytes:
    """The signature's bytes: base64 of something, never empty."""
    if not isinstance(raw, str) or not raw:
        raise refused("it carries no Signature")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise refused("the signature is not base64") from None


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


def signing_certificate(url: str) -> x509.Certificate:
    """The certificate at a URL `certificate_url_allowed` took, unless it has expired."""
    try:
        certificate = _fetch_certificate(url)
    except (OSError, ValueError):
        raise refused("its signing certificate could not be fetched or read") from None
    if certificate.not_valid_after_utc < datetime.now(UTC):
        raise refused("its signing certificate has expired")
    return certificate


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A certificate is read where its checked URL says, never where a redirect points."""

    def redirect_request(self, *args, **kwargs):
        """No request for a redirect: the 3xx is an error."""
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@lru_cache(maxsize=CERTIFICATES_KEPT)
def _fetch_certificate(url: str) -> x509.Certificate:
    """The certificate at a URL, fetched once while it is among the last few used (a failed
    fetch is not kept, so the next message tries again)."""
    with _opener.open(url, timeout=FETCH_TIMEOUT) as response:
        return x509.load_pem_x509_certificate(response.read(CERTIFICATE_BYTES))
