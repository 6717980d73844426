"""Herald's own addresses: where `herald serve` listens and the public address links in
messages point at (HERALD_PUBLIC_URL, SPEC §8), read and checked once here for the settings."""

from __future__ import annotations

import ipaddress

from shared.infra.errors import ConfigError

# Where `herald serve` listens by default, and so where links point when nothing says otherwise.
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
DEFAULT_PUBLIC_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def is_loopback(host: str) -> bool:
    """True for a host name or address that only this machine reaches."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def served_url(host: str, port: int) -> str:
    """The address of a server listening on this host and port (on every address: localhost)."""
    shown = {"0.0.0.0": "localhost", "::": "localhost", "": "localhost"}.get(host, host)
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def checked_public_url(raw: str | None) -> str:
    """HERALD_PUBLIC_URL without its trailing slash (the default address when unset); a
    ConfigError saying what it must be unless it is an absolute http(s) URL with no query."""
    url = (raw or "").strip().rstrip("/") or DEFAULT_PUBLIC_URL
    scheme, _, rest = url.partition("://")
    if scheme.lower() in ("http", "https") and rest and not any(c in rest for c in "?#\\ "):
        return url
    example = "an http:// or https:// address, such as https://herald.example.com"
    raise ConfigError(f"HERALD_PUBLIC_URL must be {example}, not {url!r}.")
