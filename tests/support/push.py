"""Push devices as the tests give them: FCM and APNs tokens of the right shape, and browser
subscriptions with real P-256 key pairs."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.support.data import token

FCM = "f" * 20 + ":APA91b" + "x" * 120
APNS = "ab" * 32


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def subscription(endpoint: str = "https://1.1.1.1/push/") -> dict:
    """A browser's subscription with a real P-256 key pair (its endpoint never connected to:
    the outbox writes the push)."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    keys = {"p256dh": b64(point), "auth": b64(os.urandom(16))}
    return {"endpoint": endpoint + token(), "keys": keys}
