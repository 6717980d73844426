"""The Web Push VAPID key (RFC 8292, SPEC §10): `HERALD_VAPID_PRIVATE_KEY` read once here, as
PEM or base64url of the raw 32-byte P-256 private key, and the public key a browser subscribes
with (its `applicationServerKey`, base64url of the uncompressed point). `cryptography` only: the
front API derives the public key without loading the worker's Web Push libraries."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import replace
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


def checked_key(text: str | None) -> str | None:
    """HERALD_VAPID_PRIVATE_KEY as set, checked when Herald starts: ConfigError if it is not
    a P-256 private key."""
    if text is not None:
        load_private_key(text)
    return text


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


def with_embedded_key(settings: Settings) -> Settings:
    """The embedded default's settings with a VAPID key, so the bell's browser notifications
    work with no configuration: made once and kept beside the outbox (`var/`), readable by
    this user only. Production sets HERALD_VAPID_PRIVATE_KEY (its processes share it)."""
    if not settings.embedded or settings.vapid_private_key:
        return settings
    folder = settings.outbox_dir.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "vapid_private_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return replace(settings, vapid_private_key=path.read_text().strip())
    private, _ = new_key_pair()
    with os.fdopen(fd, "w") as file:
        file.write(private + "\n")
    return replace(settings, vapid_private_key=private)
