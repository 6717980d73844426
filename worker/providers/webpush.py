"""Web Push (RFC 8030, SPEC §10): each push a POST to the browser subscription's endpoint, its
payload encrypted for the subscription (RFC 8291, aes128gcm, by pywebpush and http_ece) and
signed for the push service with the VAPID key (RFC 8292, by py-vapid).

The endpoint is a URL a browser gave: it is checked as a webhook's is (SPEC §9: https, public
addresses only, unless `HERALD_WEBHOOKS_ALLOW_PRIVATE=1`) right before each post, which then
connects to the address checked only (`keepalive.KeptAlive`). A redirect is not followed.

What an answer says of the push (RFC 8030 §5, RFC 8292 §4; SPEC §8):
201/202 taken (the `Location` header is its id); 404/410 the subscription is gone; 429
throttled (transient); 401/403 the push service refused our VAPID token (failover: a
provider-level refusal, as SPEC §8 says of HTTP 401/403); a 5xx, or no answer once the request
went, unknown (SPEC §8: it may have been taken, and a device gets at most one send); 400, 413
and the rest refused for this push."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from py_vapid import jwt
from pywebpush import WebPusher

from shared.infra.errors import ConfigError, HeraldError
from shared.push.vapid import VARIABLE, load_private_key, public_key_b64
from shared.webhooks.addresses import target
from worker.providers.base import DeviceGone, Provider, ProviderError, _nothing
from worker.providers.content import Push
from worker.providers.keepalive import KeptAlive, read_capped

# A push is a nudge: past a day it is stale (the feed keeps the message itself).
TTL = 86400
MAX_PLAINTEXT = 3993  # RFC 8291 §4: a 4,096-byte record less its header, tag and delimiter
VALIDITY = 12 * 3600  # a VAPID token's exp (RFC 8292 §2: at most 24 h ahead)
RESIGN_AFTER = 3600  # a cached token is signed again after this, long before it expires
MAX_AUDIENCES = 256


@dataclass(frozen=True)
class WebPushRequest:
    """A built push: where it goes, its encrypted body and its headers."""

    endpoint: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """The push service's answer: status, `Location` and body (at most 64 KiB)."""

    status: int
    location: str | None
    body: bytes


class WebPushProvider(Provider):
    """Pushes to browsers' Web Push subscriptions, signed with `HERALD_VAPID_PRIVATE_KEY`."""

    kind = "webpush"
    devices = frozenset({"webpush"})

    def __init__(self, settings, url) -> None:
        super().__init__(settings, url)
        self._problem: ProviderError | None = None
        self._signer: VapidSigner | None = None
        try:
            self._signer = VapidSigner(settings.vapid_private_key, _subject(settings, url))
        except ProviderError as exc:
            self._problem = exc  # raised by each send, before anything goes
        self._connections = KeptAlive(settings.provider_timeout)

    def send(self, content: Push, posting=_nothing) -> str:
        if self._problem is not None:
            raise self._problem
        return super().send(content, posting)

    def close(self) -> None:
        self._connections.close()

    def build(self, content: Push) -> WebPushRequest:
        device = content.device
        payload = _payload(content)
        if len(payload) > MAX_PLAINTEXT:
            raise ValueError(f"the push is {len(payload)} bytes, over Web Push's {MAX_PLAINTEXT}")
        subscription = {
            "endpoint": device.endpoint,
            "keys": {"p256dh": device.p256dh, "auth": device.auth},
        }
        body = WebPusher(subscription).encode(payload, "aes128gcm")["body"]
        headers = {
            "TTL": str(TTL),
            "Urgency": "normal",
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": self._signer.authorization(_origin(device.endpoint)),
        }
        return WebPushRequest(device.endpoint, body, headers)

    def post(self, request: WebPushRequest) -> Answer:
        """The push service's answer, or ProviderError (`url/*` before anything connects)."""
        try:
            checked = target(request.endpoint, self.settings.webhooks_allow_private)
        except HeraldError as exc:
            raise _refused(exc) from None
        try:
            conn = self._connections.connection(checked)
        except OSError as exc:  # refused, unreachable, TLS: nothing went
            self._connections.drop(checked)
            raise ProviderError("webpush/connect", str(exc), transient=True) from exc
        try:
            conn.request("POST", _path(checked.url), request.body, request.headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            self._connections.drop(checked)
            raise ProviderError(
                "webpush/no-answer", str(exc) or type(exc).__name__, unknown=True
            ) from exc
        return self._answer(response, checked)

    def _answer(self, response: http.client.HTTPResponse, checked) -> Answer:
        """The answer, its body read (a body that breaks off leaves the status standing)."""
        try:
            body = read_capped(response, self.settings.provider_timeout)
        except (OSError, http.client.HTTPException):
            body = b""
        if response.will_close or not response.isclosed():
            self._connections.drop(checked)
        return Answer(response.status, response.getheader("Location"), body)

    def parse(self, response: Answer) -> str:
        if 200 <= response.status < 300:
            return response.location or str(uuid.uuid4())
        raise _error(response)


class VapidSigner:
    """The VAPID `Authorization` of each push service (audience), signed once an hour.

    Signed by py-vapid's `jwt.sign` (ES256, the claims sorted as Chrome wants them), not by
    `Vapid.sign`, whose check of `aud` refuses an IPv6 origin (`https://[2001:db8::1]`)."""

    def __init__(self, private_key: str | None, subject: str) -> None:
        if not private_key:
            raise ProviderError(
                "vapid/missing", f"Set {VARIABLE} (`herald push keys` makes one).", failover=True
            )
        try:
            self._key = load_private_key(private_key)
        except ConfigError as exc:
            raise ProviderError("vapid/invalid", str(exc), failover=True) from None
        self._public = public_key_b64(self._key)
        self._subject = subject
        self._signed: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def authorization(self, audience: str) -> str:
        """`vapid t=<JWT>,k=<public key>` for this audience, from the cache while it is fresh."""
        now = time.time()
        with self._lock:
            cached = self._signed.get(audience)
        if cached is not None and now - cached[1] < RESIGN_AFTER:
            return cached[0]
        claims = {"aud": audience, "exp": int(now) + VALIDITY, "sub": self._subject}
        header = f"vapid t={jwt.sign(claims, self._key)},k={self._public}"
        with self._lock:
            self._signed.pop(audience, None)
            self._signed[audience] = (header, now)
            while len(self._signed) > MAX_AUDIENCES:
                self._signed.pop(next(iter(self._signed)))
        return header


def _subject(settings, url) -> str:
    """The VAPID `sub` (RFC 8292 §2.1, a contact for the push service's operator): the URL's
    `subject`, else the public URL when it is https, else postmaster at its host."""
    subject = url.options.get("subject")
    if subject is None:
        public = urlsplit(settings.public_url)
        if public.scheme == "https":
            return f"https://{public.netloc}"
        return f"mailto:postmaster@{public.hostname or 'localhost'}"
    if not subject.startswith(("mailto:", "https://")) or len(subject) < 10:
        raise ProviderError(
            "vapid/subject", "subject must be a mailto: or https: contact URI.", failover=True
        )
    return subject


def _payload(content: Push) -> bytes:
    """The JSON a service worker reads from the push event, without the absent fields."""
    fields = {
        "title": content.title,
        "body": content.body,
        "icon": content.icon,
        "url": content.url,
        "data": content.data,
        "messageId": content.message_id,
    }
    present = {name: value for name, value in fields.items() if value is not None}
    return json.dumps(present, separators=(",", ":"), ensure_ascii=False).encode()


def _origin(endpoint: str) -> str:
    """The endpoint's origin, the VAPID audience: scheme, host and a port other than the
    scheme's own."""
    parts = urlsplit(endpoint)
    default = 443 if parts.scheme == "https" else 80
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    port = f":{parts.port}" if parts.port not in (None, default) else ""
    return f"{parts.scheme}://{host}{port}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _refused(exc: HeraldError) -> ProviderError:
    """An endpoint the address rule refused: nothing connected. A host that does not resolve
    may again (transient); a private or malformed one won't."""
    return ProviderError(exc.code, exc.message, transient=exc.code == "url/unresolvable")


def _error(answer: Answer) -> ProviderError:
    """A push service's refusal, by its status (the module's docstring says why each)."""
    status, said = answer.status, answer.body[:300].decode("utf-8", "replace").strip()
    message = said or f"HTTP {status}"
    code = f"webpush/{status}"
    if status in (404, 410):
        return DeviceGone(f"The push service answered {status}: {message}")
    if status == 429:
        return ProviderError(code, message, transient=True)
    if status in (401, 403):
        return ProviderError(code, message, failover=True)
    if status >= 500:
        return ProviderError(code, message, unknown=True)
    if 300 <= status < 400:
        return ProviderError(code, f"{message} (redirects are not followed)")
    return ProviderError(code, message)
