"""Secrets at rest: the secret material Herald must read back (a project's widget secrets) is
stored sealed with HERALD_SECRET_KEY when it is set, as Fernet tokens (AES-128-CBC with an
HMAC-SHA256, from `cryptography`). The first key seals, every key opens: to rotate, put the new
key first and keep the old one after it until `herald secrets reencrypt` has rewritten the rows.

A stored value that is not a Fernet token is plaintext, stored before a key was set; it keeps
working, and `herald secrets reencrypt` seals it. (API keys are not here: only their SHA-256
hashes are stored, there is nothing to read back.)
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from functools import cache, cached_property

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shared.infra.errors import ConfigError

# Every Fernet token starts with its version byte and a 64-bit timestamp, so with this text
# until the year 2106; a widget secret Herald made (hex) never does.
TOKEN_PREFIX = "gAAAAA"


@dataclass(frozen=True)
class SecretBox:
    """Seals and opens stored secrets with the configured keys; without keys, stores in clear."""

    keys: tuple[str, ...] = field(default=(), repr=False)

    @cached_property
    def _fernet(self) -> MultiFernet | None:
        return MultiFernet([Fernet(key) for key in self.keys]) if self.keys else None

    def seal(self, secret: str) -> str:
        """The stored form of a secret: a Fernet token under the first key, or the secret."""
        if self._fernet is None:
            return secret
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The secret of a stored value (a plaintext value is its own secret)."""
        if not is_sealed(stored):
            return stored
        if self._fernet is None:
            raise ConfigError(
                "A stored secret is sealed but HERALD_SECRET_KEY is not set: set it to the keys "
                "it was sealed with."
            )
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise ConfigError(
                "No key of HERALD_SECRET_KEY opens a stored secret: keep the key it was sealed "
                "with in the list (new key first, old ones after) until `herald secrets "
                "reencrypt` has run."
            ) from None

    def reseal(self, stored: str) -> str:
        """The stored form under the first key (unchanged when there is no key)."""
        return self.seal(self.open(stored))


def is_sealed(stored: str) -> bool:
    """True for a stored value that is a Fernet token rather than plaintext."""
    return stored.startswith(TOKEN_PREFIX)


@cache
def secret_box(keys: tuple[str, ...]) -> SecretBox:
    """The box of these keys, made once a process."""
    return SecretBox(keys)


def secret_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """HERALD_SECRET_KEY's Fernet keys (32 url-safe base64 bytes each), or a ConfigError that
    names the variable and the key's place, never the key."""
    for place, key in enumerate(keys, 1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise ConfigError(
                f"HERALD_SECRET_KEY: key {place} is not a Fernet key (32 url-safe base64 bytes; "
                "make one with `herald secrets new-key`)."
            )
    return keys
