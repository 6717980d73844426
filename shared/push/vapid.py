"""The Web Push VAPID key (RFC 8292, SPEC §10): `HERALD_VAPID_PRIVATE_KEY` read once here, as
PEM or base64url of the raw 32-byte P-256 private key, and the public key a browser subscribes
with (its `applicationServerKey`, base64url of the uncompressed point). `cryptography` only: the
front API derives the public key without loading the worker's Web Push libraries."""

from __future__ import annotations

import base64
import binascii
from functools import cache
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.infra.errors import ConfigError

if TYPE_CHECKING:
    from shared.infra import Settings

VARIABLE = "HERALD_VAPID_PRIVATE_KEY"


def b64url(data: bytes) -> str:
    """Base64url without padding, as Web Push writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of `text` (PEM, with real or `\\n` newlines, or base64url of its
    32 bytes); ConfigError naming the variable otherwise."""
    text = text.strip().replace("\\n", "\n")
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = _unb64url("".join(text.split()))
            if len(raw) != 32:
                raise ValueError(f"{len(raw)} bytes, not 32")
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ConfigError(f"{VARIABLE} is not a P-256 private key ({exc}).") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError(f"{VARIABLE} must be a P-256 (prime256v1) elliptic-curve key.")
    return key


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The key's public point, uncompressed, base64url: the browser's applicationServerKey."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def vapid_public_key(settings: Settings) -> str | None:
    """The public key of the configured VAPID key, None when none is set; ConfigError when the
    key set is not one."""
    if not settings.vapid_private_key:
        return None
    return _public_of(settings.vapid_private_key)


@cache
def _public_of(text: str) -> str:
    """The public key of a private key's text (the front API asks for it on every call)."""
    return public_key_b64(load_private_key(text))


def new_key_pair() -> tuple[str, str]:
    """A new VAPID pair: the private key as `HERALD_VAPID_PRIVATE_KEY` takes it (base64url of
    its 32 bytes) and the public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(raw), public_key_b64(key)
