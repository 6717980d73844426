"""Stand-ins of FCM HTTP v1 and APNs on 127.0.0.1, each a hypercorn server in a thread of its
own: FCM's OAuth2 token endpoint (checks the JWT-bearer assertion against the service
account's public key) and `messages:send` (checks the bearer token it issued); APNs over
HTTP/2 without TLS (h2c, prior knowledge), checking the ES256 provider token. Both record what
they got, count connections, and answer per device token as `answers` says."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypercorn.asyncio import serve
from hypercorn.config import Config

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
FCM_ERRORS = {  # answer -> status, FCM's errorCode, the RPC status, its message
    "UNREGISTERED": (404, "UNREGISTERED", "NOT_FOUND", "Requested entity was not found."),
    "INVALID_TOKEN": (
        400,
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "INVALID_ARGUMENT": (400, None, "INVALID_ARGUMENT", "Invalid value at 'message.android'"),
    "SENDER_ID_MISMATCH": (403, "SENDER_ID_MISMATCH", "PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": (429, "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED", "Quota exceeded."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": (401, "THIRD_PARTY_AUTH_ERROR", "UNAUTHENTICATED", "APNs refused"),
}
APNS_ERRORS = {  # answer (APNs's reason) -> status
    "Unregistered": 410,
    "BadDeviceToken": 400,
    "ExpiredProviderToken": 403,
    "TooManyRequests": 429,
    "ServiceUnavailable": 503,
    "PayloadTooLarge": 413,
}


def write_service_account(folder: Path, token_uri: str) -> tuple[Path, rsa.RSAPublicKey]:
    """A service account's JSON key file, its token_uri the stand-in's, and its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = {
        "type": "service_account",
        "project_id": "herald-test",
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": "push@herald-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = folder / "service-account.json"
    path.write_text(json.dumps(info))
    return path, key.public_key()


def write_p8(folder: Path) -> tuple[Path, ec.EllipticCurvePublicKey]:
    """An APNs auth key (.p8: a P-256 key in PKCS#8 PEM) and its public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = folder / "AuthKey_KEY1234567.p8"
    path.write_bytes(pem)
    return path, key.public_key()


class _Server:
    """An ASGI app served by hypercorn in a thread, on a port of 127.0.0.1 picked by the OS."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}  # device token -> answer ("ok" when absent)
        self.requests: list[dict] = []
        self.clients: set = set()  # (host, port) of each connection seen
        self.hang = 3.0
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.accesslog = config.errorlog = None
        config.graceful_timeout = 0.1
        # hypercorn ends a connection after 1,000 requests, with a GOAWAY that leaves the push
        # in flight unknown; APNs and FCM keep theirs open for hours
        config.keep_alive_max_requests = 10**9
        self._loop = asyncio.new_event_loop()
        self._stop, self._released = asyncio.Event(), asyncio.Event()
        run = serve(self._app, config, shutdown_trigger=self._stop.wait)
        self._thread = threading.Thread(target=self._serve, args=(run,), daemon=True)
        self._thread.start()

    def _serve(self, run) -> None:
        try:
            self._loop.run_until_complete(run)
        except Exception:  # a request still hanging as the server shuts down
            if not self._stop.is_set():
                raise

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._released.set)  # a hanging answer ends first
        time.sleep(0.05)
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    async def _hang(self) -> None:
        """Answer after `hang` seconds, or as the server closes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.hang)

    async def _app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        self.clients.add(tuple(scope["client"]))
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status, extra, answer = await self.answer(scope, headers, body)
        data = json.dumps(answer).encode() if answer is not None else b""
        head = [(b"content-type", b"application/json"), *extra]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": data})

    async def answer(self, scope, headers: dict, body: bytes) -> tuple[int, list, object]:
        """The status, extra headers and JSON answer to one request."""
        raise NotImplementedError


class FcmStandin(_Server):
    """FCM HTTP v1: `POST /token` (the OAuth2 JWT-bearer grant) and `messages:send`."""

    def __init__(self, public_key: rsa.RSAPublicKey | None = None) -> None:
        super().__init__()
        self.public_key = public_key
        self.token_uri = f"http://127.0.0.1:{self.port}/token"
        self.issued: set[str] = set()
        self.exchanges = 0
        self.refuse_grants = 0  # the status of the token endpoint's refusal, 0: none

    async def answer(self, scope, headers, body):
        if scope["path"] == "/token":
            return self._grant(body)
        self.requests.append(
            {
                "path": scope["path"],
                "auth": headers.get("authorization", ""),
                "http_version": scope["http_version"],
                "message": json.loads(body or b"{}").get("message", {}),
            }
        )
        if headers.get("authorization", "").removeprefix("Bearer ") not in self.issued:
            return 401, [], _fcm_error(401, None, "UNAUTHENTICATED", "Invalid credentials.")
        token = self.requests[-1]["message"].get("token")
        answer = self.answers.get(token, "ok")
        if answer == "hang":
            await self._hang()
        if answer in FCM_ERRORS:
            return FCM_ERRORS[answer][0], [], _fcm_error(*FCM_ERRORS[answer])
        name = f"projects/herald-test/messages/{len(self.requests)}"
        return 200, [], {"name": name}

    def _grant(self, body: bytes) -> tuple[int, list, dict]:
        """The JWT-bearer grant: an access token for a well-signed assertion, else 400."""
        self.exchanges += 1
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.public_key,
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_URI,  # what google-auth signs for, wherever it posts
            )
        except jwt.PyJWTError as exc:
            return 400, [], {"error": "invalid_grant", "error_description": str(exc)}
        if self.refuse_grants or "firebase.messaging" not in claims.get("scope", ""):
            refusal = {"error": "invalid_scope", "error_description": "refused"}
            return self.refuse_grants or 400, [], refusal
        token = f"ya29.{secrets.token_urlsafe(24)}"
        self.issued.add(token)
        return 200, [], {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


def _fcm_error(status: int, code: str | None, rpc: str, message: str) -> dict:
    """FCM v1's error JSON, an FcmError detail carrying `code` when it has one."""
    details = []
    if code:
        details.append({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError"})
        details[0]["errorCode"] = code
    return {"error": {"code": status, "message": message, "status": rpc, "details": details}}


class ApnsStandin(_Server):
    """APNs: `POST /3/device/<token>` over HTTP/2, the provider token checked (kid, iss, iat,
    signature), `apns-topic` and `apns-push-type` too."""

    def __init__(self, public_key, key_id: str, team_id: str, topic: str) -> None:
        super().__init__()
        self.public_key, self.key_id, self.team_id, self.topic = public_key, key_id, team_id, topic

    async def answer(self, scope, headers, body):
        token = scope["path"].removeprefix("/3/device/")
        self.requests.append(
            {
                "token": token,
                "headers": headers,
                "http_version": scope["http_version"],
                "client": tuple(scope["client"]),
                "payload": json.loads(body or b"{}"),
            }
        )
        refusal = self._refusal(headers)
        if refusal:
            return refusal
        answer = self.answers.get(token, "ok")
        if answer == "hang":
            await self._hang()
        if answer in APNS_ERRORS:
            reason: dict = {"reason": answer}
            if answer == "Unregistered":
                reason["timestamp"] = int(time.time() * 1000)
            return APNS_ERRORS[answer], [], reason
        apns_id = self.requests[-1]["apns_id"] = headers.get("apns-id") or str(uuid.uuid4())
        return 200, [(b"apns-id", apns_id.encode())], None

    def _refusal(self, headers: dict) -> tuple[int, list, dict] | None:
        """APNs's answer to a request whose token, topic or push type is wrong."""
        provider_token = headers.get("authorization", "").removeprefix("bearer ")
        try:
            header = jwt.get_unverified_header(provider_token)
            claims = jwt.decode(provider_token, self.public_key, algorithms=["ES256"])
        except jwt.PyJWTError:
            return 403, [], {"reason": "InvalidProviderToken"}
        if header.get("kid") != self.key_id or claims.get("iss") != self.team_id:
            return 403, [], {"reason": "InvalidProviderToken"}
        if not time.time() - 3600 < claims.get("iat", 0) <= time.time() + 5:
            return 403, [], {"reason": "ExpiredProviderToken"}
        if headers.get("apns-topic") != self.topic:
            return 400, [], {"reason": "DeviceTokenNotForTopic"}
        if headers.get("apns-push-type") != "alert":
            return 400, [], {"reason": "InvalidPushType"}
        return None
