"""A webhook receiver in a process of its own, as a SaaS would run one: it verifies every
post's signature with the `standardwebhooks` package under each secret it is given, and
records what it got. `python -m tests.support.webhook_test_receiver SECRETS_FILE` prints its
port, then serves on loopback:

- `POST <any path>`: recorded; answered 200, or the status `/status/<code>` names.
- `GET /received`: what it got, as JSON: per post its path, its `webhook-*` headers, its body,
  how many signatures it carried and the secrets (by index in the file) that verify it.

`Receiver` starts one from a test, and writes the secrets file it reads at every post;
`listening` is a port where nothing may connect (an address Herald must refuse)."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORD: list[dict] = []
LOCK = threading.Lock()


def _verified_by(secrets: list[str], body: bytes, headers: dict) -> list[int]:
    """The indexes of the secrets under which the `standardwebhooks` package verifies it."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    good = []
    for index, secret in enumerate(secrets):
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            continue
        good.append(index)
    return good


class _Handler(BaseHTTPRequestHandler):
    secrets_file: Path

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        secrets = json.loads(self.secrets_file.read_text() or "[]")
        with LOCK:
            RECORD.append(
                {
                    "path": self.path,
                    "headers": {k: v for k, v in headers.items() if k.startswith("webhook-")},
                    "body": json.loads(body),
                    "signatures": len(headers.get("webhook-signature", "").split()),
                    "verifiedBy": _verified_by(secrets, body, headers),
                }
            )
        status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self) -> None:  # noqa: N802
        with LOCK:
            body = json.dumps(RECORD).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Receiver:
    """The receiver's process, started by a test: its URL, its secrets, what it got."""

    def __init__(self, folder: Path) -> None:
        self.secrets_file = folder / "receiver-secrets.json"
        self.secrets_file.write_text("[]")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.webhook_test_receiver", str(self.secrets_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def trust(self, *secrets: str) -> None:
        """The secrets it verifies each post under, from now on."""
        self.secrets_file.write_text(json.dumps(list(secrets)))

    def received(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/received", timeout=5) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)


@contextlib.contextmanager
def listening() -> Iterator[tuple[int, Callable[[], bool]]]:
    """A socket listening on a port of every loopback address, v4 and v6, accepting nothing:
    its port, and a function telling whether anything connected to it."""
    server = socket.create_server(("", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    server.setblocking(False)

    def connected() -> bool:
        try:
            server.accept()[0].close()
        except BlockingIOError:
            return False
        return True

    try:
        yield server.getsockname()[1], connected
    finally:
        server.close()


def main() -> None:
    _Handler.secrets_file = Path(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
