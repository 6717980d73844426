"""Where a webhook may post (SPEC §9): an https URL without credentials whose host resolves
only to public addresses, checked when the endpoint is saved and again before every post (a
DNS answer can change between the two); the post then connects to the address checked, never
resolving again. `HERALD_WEBHOOKS_ALLOW_PRIVATE=1` lifts the address rule and allows http, for
a receiver on the operator's own network (and the tests' on loopback)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.infra.errors import HeraldError

MAX_URL = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`), and the host and port it names."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def _refused(message: str) -> HeraldError:
    return HeraldError("url/invalid", message)


def check_url(url: object, allow_private: bool) -> tuple[str, str, int]:
    """The URL's scheme, host and port, or `url/invalid` saying what is wrong (no look-up)."""
    if not isinstance(url, str) or not url:
        raise _refused("url must be a non-empty string.")
    if len(url) > MAX_URL:
        raise _refused(f"url is longer than {MAX_URL} characters.")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise _refused("url has a space or a control character in it.")
    if not url.isascii():
        raise _refused("url must be ASCII: percent-encode its path, an international host xn--.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _refused(f"url is not a valid URL ({error}).") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise _refused("url must be https (http only with HERALD_WEBHOOKS_ALLOW_PRIVATE=1).")
    if parts.username is not None or parts.password is not None:
        raise _refused("url must not carry credentials; the signature authenticates Herald.")
    if not parts.hostname:
        raise _refused("url names no host.")
    if parts.fragment:
        raise _refused("url must not have a #fragment.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: IpAddress) -> bool:
    """Whether an address is one a webhook may reach: not loopback, private, link-local,
    multicast, reserved or unspecified (an IPv4-mapped IPv6 address is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address the host resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise HeraldError(
            "url/unresolvable", f"url's host {host!r} does not resolve ({error})."
        ) from None
    return [ipaddress.ip_address(answer[4][0].split("%")[0]) for answer in answers]


def target(url: str, allow_private: bool) -> Target:
    """The checked URL with the address to connect to; `url/invalid`, `url/unresolvable` or
    `url/private` (any address of the host not public) otherwise. Nothing connects here."""
    scheme, host, port = check_url(url, allow_private)
    addresses = resolve(host, port)
    if not allow_private:
        private = [str(a) for a in addresses if not is_public(a)]
        if private:
            raise HeraldError(
                "url/private",
                f"url's host resolves to a non-public address ({private[0]}); webhooks reach "
                "public addresses only (HERALD_WEBHOOKS_ALLOW_PRIVATE=1 allows others).",
            )
    return Target(url, scheme, host, port, str(addresses[0]))
