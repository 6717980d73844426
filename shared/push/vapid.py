"""The Web Push VAPID key pair (RFC 8292): the private key from HERALD_VAPID_PRIVATE_KEY, and
the public key a browser subscribes with (`applicationServerKey`)."""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@cache
def private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """The key from its PEM or the base64url of its 32 bytes; ValueError if it is neither."""
    if "-----BEGIN" in text:
        key = load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the VAPID key must be a P-256 (prime256v1) private key")
        return key
    raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    if len(raw) != 32:
        raise ValueError("the VAPID key is 32 bytes, base64url, or a PEM")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def public_key(text: str) -> str:
    """The base64url uncompressed point of the private key's public key."""
    point = (
        private_key(text).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return _b64(point)


def vapid_public_key(settings) -> str | None:
    """The public key browsers subscribe with, None without a usable VAPID key."""
    if not settings.vapid_private_key:
        return None
    try:
        return public_key(settings.vapid_private_key)
    except ValueError:
        return None


def with_embedded_key(settings):
    """The embedded default's settings with a VAPID key, so the bell's browser notifications
    work with no configuration: made once and kept beside the outbox (`var/`), readable by
    this user only. Production must set HERALD_VAPID_PRIVATE_KEY (its processes share it)."""
    if not settings.embedded or settings.vapid_private_key:
        return settings
    folder = settings.outbox_dir.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "vapid_private_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return replace(settings, vapid_private_key=path.read_text().strip())
    key = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    text = _b64(key.to_bytes(32, "big"))
    with os.fdopen(fd, "w") as file:
        file.write(text + "\n")
    return replace(settings, vapid_private_key=text)
