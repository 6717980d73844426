"""Push to Apple devices through APNs (SPEC §10): an HTTP/2 `POST /3/device/{token}` with
token auth (an ES256 JWT of the team, signed with the .p8 key); the answer's `apns-id` is the
provider's message id.

`?host=` names another server: `HOST[:PORT]` is reached over TLS, as api.push.apple.com is
(`api.sandbox.push.apple.com` for development builds); `http://HOST:PORT` over HTTP/2 without
TLS, with prior knowledge (h2c), which is how the tests' stand-in speaks it: real HTTP/2
frames, no certificate to trust.

The device is gone on 410 (Unregistered) and on 400 BadDeviceToken. Apple also answers
BadDeviceToken to a development build's token sent to the production host; that token can't
be delivered through this provider's host either, and an app registers its token again at
each launch, so one removed after a host was misconfigured comes back."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from worker.providers.base import DeviceGone, Provider, ProviderError
from worker.providers.content import Push
from worker.providers.posting import ThreadClients, posted

HOST = "api.push.apple.com"
MAX_PAYLOAD = 4096  # APNs refuses a larger one (413)
MAX_KEY = 16 * 1024  # a .p8 key is about 250 bytes
EXPIRATION = 24 * 3600  # how long APNs keeps a push for a device that is offline
REUSE = 40 * 60  # Apple refuses a provider token older than an hour
RESIGN = 20 * 60  # and answers TooManyProviderTokenUpdates to new ones more often than this
GONE = frozenset({"Unregistered", "BadDeviceToken"})
# Refusals of this provider's settings, not of the device: another provider may do better.
SETTINGS = frozenset({"BadTopic", "MissingTopic", "TopicDisallowed", "BadCertificateEnvironment"})


class ProviderToken:
    """The team's provider token: one JWT reused for 40 minutes, and signed again at most once
    in 20 minutes, even after APNs refused it; shared by the worker threads."""

    def __init__(self, path: str, key_id: str, team_id: str, clock=time.time) -> None:
        self.path, self.key_id, self.team_id, self.clock = path, key_id, team_id, clock
        self._lock = threading.Lock()
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._token: str | None = None
        self._signed = 0.0
        self._refused = False

    def get(self) -> str:
        """The JWT to send, signed now when the one held is too old or was refused."""
        with self._lock:
            age = self.clock() - self._signed
            if self._token is None or age >= REUSE or (self._refused and age >= RESIGN):
                self._token = self._sign()
            return self._token

    def refused(self, token: str) -> None:
        """APNs refused this JWT (403): sign a new one as soon as Apple allows."""
        with self._lock:
            self._refused = self._refused or token == self._token

    def load(self) -> ec.EllipticCurvePrivateKey:
        """The .p8 key, read once; ProviderError (failover) when it can't be."""
        if self._key is None:
            self._key = _read_key(self.path)
        return self._key

    def _sign(self) -> str:
        now = self.clock()
        claims = {"iss": self.team_id, "iat": int(now)}
        token = jwt.encode(claims, self.load(), algorithm="ES256", headers={"kid": self.key_id})
        self._signed, self._refused = now, False
        return token


def _read_key(path: str) -> ec.EllipticCurvePrivateKey:
    """An APNs auth key: a P-256 private key in PEM (PKCS#8), at most 16 KiB."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_KEY + 1)
    except OSError as exc:
        why = f"The APNs key file {path} can't be read ({exc.strerror})."
        raise ProviderError("apns/key", why, failover=True) from exc
    try:
        key = serialization.load_pem_private_key(data[:MAX_KEY], password=None)
    except (ValueError, TypeError) as exc:
        why = f"The file {path} is not an APNs auth key (.p8): {exc}."
        raise ProviderError("apns/key", why, failover=True) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        why = f"The file {path} is not an APNs auth key: APNs keys are P-256 (ES256)."
        raise ProviderError("apns/key", why, failover=True)
    return key


class ApnsProvider(Provider):
    """Pushes to APNs device tokens of one app (`topic`, its bundle id) with a team's key."""

    kind = "apns"
    devices = frozenset({"apns"})

    def __init__(self, settings, url) -> None:
        super().__init__(settings, url)
        options = url.options
        host = options.get("host") or HOST
        self._base = host.rstrip("/") if "://" in host else f"https://{host}"
        self._topic = options["topic"]
        self._token = ProviderToken(options["key"], options["keyId"], options["teamId"])
        self._clients = ThreadClients(settings.provider_timeout, http2=True)
        with contextlib.suppress(ProviderError):  # a key that can't be read: at each send
            self._token.load()  # read as the provider is built

    def build(self, content: Push) -> tuple[str, bytes]:
        if not content.device.token:
            raise ValueError("An APNs device has a device token.")
        aps: dict = {"alert": {"title": content.title, "body": content.body}}
        payload: dict = {"aps": aps}
        if content.icon:
            aps["mutable-content"] = 1  # the app's service extension may fetch the image
            payload["icon"] = content.icon
        if content.url:
            payload["url"] = content.url
        if content.data:
            payload["data"] = content.data
        payload["messageId"] = content.message_id
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        if len(body) > MAX_PAYLOAD:
            raise ValueError(f"The APNs payload is {len(body):,} bytes; APNs takes 4,096 at most.")
        return f"{self._base}/3/device/{quote(content.device.token, safe='')}", body

    def post(self, request: tuple[str, bytes]) -> tuple[int, str, bytes, str]:
        """APNs's status, its apns-id, its answer, and the JWT sent; or ProviderError."""
        url, body = request
        token = self._token.get()
        # Each header sent the same as before costs HPACK an index: the expiration is the
        # minute's, and APNs makes the apns-id (a new one each push would be encoded in full).
        expiration = int(time.time()) // 60 * 60 + EXPIRATION
        headers = {
            "authorization": f"bearer {token}",
            "apns-topic": self._topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-expiration": str(expiration),
            "content-type": "application/json",
        }
        status, answered, data = posted(self._clients.get(), url, body, headers, "apns")
        return status, answered.get("apns-id") or str(uuid.uuid4()), data, token

    def parse(self, response: tuple[int, str, bytes, str]) -> str:
        status, apns_id, data, token = response
        if status == 200:
            return apns_id
        if status == 403:
            self._token.refused(token)
        raise _error(status, _reason(data))

    def close(self) -> None:
        self._clients.close()


def _reason(data: bytes) -> dict:
    """APNs's error JSON `{"reason", "timestamp"?}`."""
    try:
        answer = json.loads(data or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _error(status: int, answer: dict) -> ProviderError:
    """APNs's error answer as a ProviderError."""
    reason = str(answer.get("reason") or f"HTTP {status}")
    name = f"apns/{reason}"
    if status == 410 or reason in GONE:
        since = f" since {answer['timestamp']} (ms)" if "timestamp" in answer else ""
        return DeviceGone(f"APNs {reason}{since}")
    if status in (429, 500, 503):
        return ProviderError(name, f"HTTP {status}", transient=True)
    if status in (403, 404, 405) or reason in SETTINGS:
        return ProviderError(name, f"HTTP {status}", failover=True)  # the key, team or topic
    if status >= 500 or status < 400:
        return ProviderError(name, f"HTTP {status}", unknown=True)
    return ProviderError(name, f"HTTP {status}")
