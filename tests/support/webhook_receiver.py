"""A webhook receiver in a process of its own (`python -m tests.support.webhook_receiver PORT
SECRET LOG MODE`): it verifies every request's signature with the `standardwebhooks` package,
as a SaaS would, and appends what it got to LOG as JSON lines (the headers' id, the body's
type, whether it verified). MODE is how it answers: `ok` (204), `fail:N` (500 to the first N
requests, then 204), `gone` (410), `hang` (never answers), `hang:N` (the first N never
answered), `big` (a 10 MB body), `redirect` (302 to another host). `Receiver` starts and
reads one from a test."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def _reply(mode: str, count: int) -> tuple[int, dict[str, str], bytes]:
    """The answer to the `count`th request in this mode: status, headers, body."""
    if mode == "hang" or (mode.startswith("hang:") and count <= int(mode.split(":")[1])):
        time.sleep(3600)
    if mode.startswith("fail:") and count <= int(mode.split(":")[1]):
        return 500, {}, b""
    if mode == "gone":
        return 410, {}, b""
    if mode == "redirect":
        return 302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""
    if mode == "big":
        return 200, {}, b"x" * 10_000_000
    return 204, {}, b""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, secret: str, log: Path, mode: str) -> None:
        self.hook, self.log, self.mode = Webhook(secret), log, mode
        self.count, self.lock = 0, threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def record(self, headers: dict[str, str], body: bytes) -> int:
        """Verify and log one request; its number."""
        try:
            payload, verified = self.hook.verify(body, headers), True
        except WebhookVerificationError:
            payload, verified = json.loads(body or b"{}"), False
        with self.lock:
            self.count += 1
            count = self.count
            entry = {
                "id": headers.get("webhook-id"),
                "type": payload.get("type"),
                "data": payload.get("data"),
                "verified": verified,
                "signatures": len(headers.get("webhook-signature", "").split()),
                "at": time.time(),
            }
            with self.log.open("a") as out:
                out.write(json.dumps(entry) + "\n")
        return count


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, extra, answer = _reply(self.server.mode, self.server.record(headers, body))
        self.send_response(status)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if answer:
            self.wfile.write(answer)


def serve(port: int, secret: str, log: Path, mode: str) -> None:
    server = _Server(port, secret, log, mode)
    print("ready", flush=True)
    server.serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    """A receiver process started by a test; `got()` is what it recorded so far."""

    def __init__(self, secret: str, folder: Path, mode: str = "ok", port: int | None = None):
        self.secret, self.mode = secret, mode
        self.port = port or _free_port()
        self.log = folder / f"receiver-{self.port}.jsonl"
        self.log.touch()
        self.url = f"http://127.0.0.1:{self.port}/hooks/{secrets.token_hex(4)}"  # its own
        self.process = None
        self.start()

    def start(self) -> None:
        args = [sys.executable, "-m", "tests.support.webhook_receiver", str(self.port)]
        args += [self.secret, str(self.log), self.mode]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def got(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.got()
            if len({entry["id"] for entry in got}) >= count:
                return got
            time.sleep(0.05)
        return self.got()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4])
