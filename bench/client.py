"""A keep-alive HTTP client of Herald's backend API (plain http.client, one per thread)."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit

from bench.payloads import notification


class Api:
    """One persistent connection to Herald, with the project's key on every call."""

    def __init__(self, base_url: str, key: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise ValueError(f"the benchmark only talks to 127.0.0.1, not {parts.hostname}")
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST a JSON body; (status, decoded answer). A dropped keep-alive is redialled once."""
        data = json.dumps(body).encode()
        for attempt in (1, 2):
            try:
                connection = self._connect()
                connection.request("POST", path, body=data, headers=self.headers)
                answer = connection.getresponse()
                raw = answer.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle connection before this request
                if attempt == 2:
                    raise
                continue
            if answer.will_close:
                self.close()
            return answer.status, json.loads(raw) if raw else None
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.connect()
            # Without it a request would wait on delayed ACKs, and we'd measure that.
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.connection

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def create_notification(base_url: str, key: str) -> None:
    """Upsert the benchmark's notification through the API."""
    api = Api(base_url, key)
    try:
        status, answer = api.post("/notifications.upsert", notification())
    finally:
        api.close()
    if status != 200:
        raise RuntimeError(f"notifications.upsert answered {status}: {answer}")


def delivered(result: dict[str, Any]) -> bool:
    """True when a `messages.send` result says every channel was sent."""
    channels = result.get("channels") or {}
    return (
        result.get("status") == "sent"
        and bool(channels)
        and all(c.get("status") == "sent" for c in channels.values())
    )
