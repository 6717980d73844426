"""One post of an event to an endpoint (SPEC §9), signed per Standard Webhooks 1.0: the
`webhook-id` is the event's id (the same on every retry), `webhook-timestamp` the time of
this post, `webhook-signature` one `v1,<base64 HMAC-SHA256>` per secret that signs now.

The post connects to the address `addresses.target` checked (never resolving the host again),
with the host's name for TLS and `Host`; it never follows a redirect, reads at most
`MAX_ANSWER` bytes of the answer, and takes at most `timeout` s in all."""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from shared.webhooks.addresses import Target

MAX_ANSWER = 64 * 1024
USER_AGENT = "Herald-Webhooks/1"


@dataclass(frozen=True)
class Posted:
    """What one post came to: the status code (None when there was no answer), how long it
    took, and what went wrong (None on a 2xx)."""

    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(event_id: str, body: bytes, secrets: list[str], now: datetime) -> dict:
    """The Standard Webhooks headers of a post."""
    signatures = " ".join(Webhook(secret).sign(event_id, now, body) for secret in secrets)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def encode(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class _Pinned(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address, verifying the certificate for the host."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.address = target.address

    def connect(self) -> None:
        sock = _connected(self.address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedPlain(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = _connected(self.address, self.port, self.timeout)


def _connected(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection with Nagle off: http.client writes a request's headers and body apart,
    and with Nagle on the body waits for the delayed ACK of the headers (~40 ms a post)."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's CAs, loaded once (each load is milliseconds of CPU)."""
    return ssl.create_default_context()


def pinned_connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    """A connection to the checked address of `target`, TLS verified for its host."""
    if target.scheme == "https":
        return _Pinned(target, timeout, _tls_context())
    return _PinnedPlain(target, timeout)


def _path(url: str) -> str:
    rest = url.split("://", 1)[1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def _read_capped(response: http.client.HTTPResponse, deadline: float) -> None:
    """Read the answer up to MAX_ANSWER bytes, within the deadline; the rest is dropped."""
    read = 0
    while read < MAX_ANSWER:
        if time.monotonic() > deadline:
            raise TimeoutError("the answer took longer than the time-out")
        chunk = response.read1(min(16384, MAX_ANSWER - read))
        if not chunk:
            return
        read += len(chunk)


def _cut(connection: http.client.HTTPConnection) -> None:
    """The whole time is up: break the connection, whatever step it is at (a peer dripping
    its answer a byte at a time never holds the post past its time-out)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def post_event(
    target: Target, event_id: str, body: bytes, secrets: list[str], timeout: float
) -> Posted:
    """Post one event; never raises for what the endpoint does."""
    started = time.monotonic()
    deadline = started + timeout
    connection = pinned_connection(target, timeout)
    watchdog = threading.Timer(timeout, _cut, (connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        headers = signed_headers(event_id, body, secrets, datetime.now(UTC))
        connection.request("POST", _path(target.url), body=body, headers=headers)
        response = connection.getresponse()
        _read_capped(response, deadline)
        status, error = response.status, None
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (
                " (redirects are not followed)" if 300 <= status < 400 else ""
            )
    except (OSError, http.client.HTTPException, TimeoutError, ssl.SSLError) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        watchdog.cancel()
        connection.close()
    return Posted(status, int((time.monotonic() - started) * 1000), error)
