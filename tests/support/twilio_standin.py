"""A Twilio Messages API stand-in on 127.0.0.1: checks Basic auth and the form body, answers
201 with Twilio's JSON or a scripted fault, and records every request it got."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

FAULTS = {
    "21211": (400, {"code": 21211, "message": "The 'To' number is not a valid phone number."}),
    "20003": (401, {"code": 20003, "message": "Authenticate"}),
    "20429": (429, {"code": 20429, "message": "Too Many Requests"}),
    "500": (500, {"code": 20500, "message": "Internal Server Error"}),
}


class TwilioStandin:
    """`fault` is None (201), a FAULTS key, "close" (close after reading) or "hang"."""

    def __init__(self, sid: str = "ACtest", token: str = "tok", hang: float = 3.0) -> None:
        self.sid, self.token, self.hang = sid, token, hang
        self.fault: str | None = None
        self.close_idle = False
        self.requests: list[dict] = []
        self.peers: set = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go as written, as Twilio's do

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                standin.peers.add(self.client_address)
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                auth = self.headers.get("Authorization", "")
                standin.requests.append({"path": self.path, "auth": auth, "form": form})
                expected = base64.b64encode(f"{standin.sid}:{standin.token}".encode()).decode()
                if standin.fault == "close":
                    self.close_connection = True
                    return
                if standin.fault == "hang":
                    time.sleep(standin.hang)
                    return
                status, answer = FAULTS.get(standin.fault or "", (201, None))
                if auth != f"Basic {expected}":
                    status, answer = FAULTS["20003"]
                if answer is None:
                    answer = {"sid": f"SM{len(standin.requests):032x}", "status": "queued"}
                    answer.update(to=form.get("To"), body=form.get("Body"))
                data = json.dumps({**answer, "status": answer.get("status", status)}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if standin.close_idle:  # as a server dropping idle kept-alive connections
                    self.close_connection = True

        return Handler
