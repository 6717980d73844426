"""A sink on loopback that takes every POST (201, with a Location): where the schemathesis
run's webhook endpoints and push subscriptions point, so nothing Herald posts leaves the
machine."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts += 1
        self.send_response(201)
        self.send_header("Location", f"{self.path}/taken")
        self.send_header("Content-Length", "0")
        self.end_headers()


class Sink:
    """The running sink: `url` to post to, `posts` how many came."""

    def __enter__(self) -> Sink:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.posts = 0
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
