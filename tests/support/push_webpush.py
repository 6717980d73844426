"""A Web Push service stand-in on 127.0.0.1 (RFC 8030 with RFC 8292 VAPID): it checks each
push's VAPID token (ES256 under the `k=` public key, `aud` its own origin, `exp` ahead and
within 24 h), records every request (headers and the encrypted body) and every connection, and
answers what each endpoint is scripted to: 201 with a `Location` (the default), another
status, "hang" (no answer for `hang` s) or "redirect" (a 301 to another endpoint)."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    """One request the stand-in got: its endpoint name, headers and body, and what it made of
    its VAPID token (None when it was valid, else why not)."""

    endpoint: str
    headers: dict[str, str]
    body: bytes
    vapid_key: str | None
    vapid_error: str | None


def vapid_problem(authorization: str, origin: str, now: float) -> tuple[str | None, str | None]:
    """The `k=` key of a `vapid t=…,k=…` header, and what is wrong with its token (None: OK)."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        return None, f"scheme {scheme!r} is not vapid"
    parts = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    token, key = parts.get("t", ""), parts.get("k")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64url(key))
        header, claims, signature = token.split(".")
        raw = _unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(_unb64url(claims))
        if json.loads(_unb64url(header)).get("alg") != "ES256":
            return key, "alg is not ES256"
    except (ValueError, TypeError, InvalidSignature) as exc:
        return key, f"bad token ({type(exc).__name__})"
    if claims.get("aud") != origin:
        return key, f"aud {claims.get('aud')!r} is not {origin}"
    if not now < claims.get("exp", 0) <= now + 86400:
        return key, "exp is not within the next 24 h"
    return key, None


@dataclass
class WebPushStandin:
    """The running stand-in: `answers[name]` scripts `/push/<name>`; `received` and
    `connections` say what came."""

    hang: float = 3.0
    answers: dict[str, int | str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.origin = f"http://127.0.0.1:{self.port}"
        serving = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        serving.start()

    def endpoint(self, name: str) -> str:
        """The push endpoint URL of `name`, as a browser's subscription gives it."""
        return f"{self.origin}/push/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(standin: WebPushStandin):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:
            pass

        def setup(self) -> None:
            standin.connections += 1  # once per connection, however many requests it carries
            super().setup()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            name = self.path.removeprefix("/push/")
            key, problem = vapid_problem(
                self.headers.get("Authorization", ""), standin.origin, time.time()
            )
            headers = dict(self.headers.items())
            standin.received.append(Received(name, headers, body, key, problem))
            answer = standin.answers.get(name, 201)
            if answer == "hang":
                time.sleep(standin.hang)
                self.close_connection = True
                return
            if problem is not None:
                answer = 401
            _answer(self, standin, name, answer)

    return Handler


def _answer(handler: BaseHTTPRequestHandler, standin: WebPushStandin, name: str, answer) -> None:
    """Answer a push as scripted: its status, and the headers that go with it."""
    status = 301 if answer == "redirect" else int(answer)
    handler.send_response(status)
    if status == 201:
        handler.send_header("Location", f"{standin.origin}/message/{name}-{time.time_ns()}")
    if status == 301:
        handler.send_header("Location", standin.endpoint(f"{name}-moved"))
    if status == 429:
        handler.send_header("Retry-After", "1")
    handler.send_header("Content-Length", "0")
    handler.end_headers()
