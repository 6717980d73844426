"""SMS through Twilio's Messages API (SPEC §8): a form-encoded POST to
`/2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth, JSON answers, the
message's `sid` as the provider's message id.

The request is made with a kept-alive `http.client` connection per thread (as `SignedEndpoint`
does for AWS), not the `twilio` package's client: the wire format is the same, and the
per-send cost was not yet measured against the package (see BENCHMARKS.md when it is)."""

from __future__ import annotations

import base64
import http.client
import json
import select
import ssl
import threading
from urllib.parse import urlencode, urlsplit

from worker.providers.base import Provider, ProviderError
from worker.providers.content import Sms

API = "https://api.twilio.com"
MAX_BODY = 64 * 1024
# Refused for this recipient: the next provider would refuse the same number.
RECIPIENT_CODES = frozenset(
    {21211, 21214, 21217, 21265, 21408, 21610, 21612, 21614, 21635, 30003, 30004, 30005, 30006}
    | {30007, 30008}
)
AUTH_CODES = frozenset({20003, 20005})


class TwilioSmsProvider(Provider):
    """Sends SMS with Twilio, From a number or through a Messaging Service."""

    kind = "twilio"

    def __init__(self, settings, url) -> None:
        super().__init__(settings, url)
        base = urlsplit(url.options.get("baseUrl") or API)
        self._https = base.scheme == "https"
        self._host = base.hostname or "api.twilio.com"
        self._port = base.port
        self._path = f"/2010-04-01/Accounts/{url.username}/Messages.json"
        token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
        self._auth = f"Basic {token}"
        self._local = threading.local()

    def build(self, content: Sms) -> bytes:
        fields = {"To": content.to, "Body": content.text}
        if "messagingServiceSid" in self.url.options:
            fields["MessagingServiceSid"] = self.url.options["messagingServiceSid"]
        else:
            fields["From"] = self.url.options["from"]
        return urlencode(fields).encode()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and _dropped(conn.sock):
            self._drop()  # Twilio closed the idle connection: a new one, before anything goes
            conn = None
        if conn is None:
            timeout = self.settings.provider_timeout
            if self._https:
                context = ssl.create_default_context()
                conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=context
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def post(self, body: bytes) -> tuple[int, bytes]:
        """The answer's status and body (at most 64 KiB), or ProviderError."""
        headers = {
            "Authorization": self._auth,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        conn = self._connection()
        try:
            if conn.sock is None:
                conn.connect()
        except (OSError, ssl.SSLError) as exc:
            self._drop()
            raise ProviderError("twilio/connect", str(exc), transient=True) from exc
        try:
            conn.request("POST", self._path, body, headers)
            response = conn.getresponse()
            data = response.read(MAX_BODY)
            if response.will_close or not response.isclosed():
                self._drop()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self._drop()
            raise ProviderError(
                "twilio/no-answer", str(exc) or type(exc).__name__, unknown=True
            ) from exc
        return response.status, data

    def parse(self, response: tuple[int, bytes]) -> str:
        status, data = response
        try:
            answer = json.loads(data or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if 200 <= status < 300 and isinstance(answer.get("sid"), str):
            return answer["sid"]
        raise _error(status, answer)


def _dropped(sock) -> bool:
    """True when an idle connection is readable: the server closed it (as aws._dropped)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _error(status: int, answer: dict) -> ProviderError:
    """Twilio's error JSON `{"code", "message", "more_info", "status"}` as a ProviderError."""
    code = answer.get("code")
    message = str(answer.get("message") or f"HTTP {status}")
    name = f"twilio/{code if code is not None else status}"
    if status in (401, 403) or code in AUTH_CODES:
        return ProviderError(name, message, failover=True)
    if status == 429 or code == 20429:
        return ProviderError(name, message, transient=True)
    if status >= 500 or status < 400:
        return ProviderError(name, message, unknown=True)
    if code in RECIPIENT_CODES:
        return ProviderError(name, message)
    return ProviderError(name, message)
