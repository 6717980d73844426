"""Push through Firebase Cloud Messaging's HTTP v1 API (SPEC §10): a JSON POST to
`/v1/projects/{project_id}/messages:send` authorized by an OAuth2 access token, which
google-auth gets from the service account's key (the JWT-bearer grant at its `token_uri`);
the answer's `name` is the provider's message id.

The device is gone on `UNREGISTERED` (404), and on `INVALID_ARGUMENT` (400) when what FCM
says is invalid is the registration token (its message says so, or a field violation names
`message.token`): Firebase's guide to managing tokens says a token answered either is safe to
delete when the payload is valid, and Herald built the payload. Any other `INVALID_ARGUMENT`
is `failed` for this device. `UNAVAILABLE`, `INTERNAL` and `QUOTA_EXCEEDED` are `transient`:
FCM says it did not take the message and to retry with backoff."""

from __future__ import annotations

import contextlib
import json
import threading

from google.auth import exceptions, transport
from google.oauth2 import service_account

from worker.providers.base import DeviceGone, Provider, ProviderError
from worker.providers.content import Push
from worker.providers.posting import ThreadClients, kept_alive, posted

API = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
MAX_CREDENTIALS = 64 * 1024  # a service account's JSON key is about 2.3 KiB
TRANSIENT = frozenset({"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"})


class FcmProvider(Provider):
    """Pushes to FCM registration tokens with one project's service account."""

    kind = "fcm"
    devices = frozenset({"fcm"})

    def __init__(self, settings, url) -> None:
        super().__init__(settings, url)
        self._file = url.options["credentials"]
        self._base = (url.options.get("baseUrl") or API).rstrip("/")
        self._lock = threading.Lock()  # guards the credentials and their access token
        self._clients = ThreadClients(settings.provider_timeout)
        self._credentials: service_account.Credentials | None = None
        with contextlib.suppress(ProviderError):  # a file that can't be read: at each send
            self._load()  # read as the provider is built

    def build(self, content: Push) -> bytes:
        if not content.device.token:
            raise ValueError("An FCM device has a registration token.")
        notification = {"title": content.title, "body": content.body}
        if content.icon:
            notification["image"] = content.icon
        data = {key: _text(value) for key, value in (content.data or {}).items()}
        if content.url:
            data["url"] = content.url
        data["messageId"] = content.message_id
        message = {"token": content.device.token, "notification": notification, "data": data}
        return json.dumps({"message": message}, ensure_ascii=False).encode()

    def post(self, body: bytes) -> tuple[int, bytes]:
        """FCM's status and answer (at most 64 KiB), or ProviderError."""
        credentials = self._load()
        headers = {
            "Authorization": f"Bearer {self._access_token(credentials)}",
            "Content-Type": "application/json; charset=UTF-8",
        }
        url = f"{self._base}/v1/projects/{credentials.project_id}/messages:send"
        status, _, data = posted(self._clients.get(), url, body, headers, "fcm")
        return status, data

    def parse(self, response: tuple[int, bytes]) -> str:
        status, data = response
        answer = _json(data)
        if status == 200 and isinstance(answer.get("name"), str):
            return answer["name"]
        if status == 401:
            self._forget_token()  # revoked or expired early: the next send gets a new one
        raise _error(status, answer.get("error"))

    def close(self) -> None:
        self._clients.close()

    def _load(self) -> service_account.Credentials:
        """The service account's credentials, read from its file once."""
        with self._lock:
            if self._credentials is None:
                self._credentials = _read_credentials(self._file)
            return self._credentials

    def _access_token(self, credentials: service_account.Credentials) -> str:
        """The cached access token, exchanged again within 3m45s of its expiry (google-auth's
        threshold), by one thread while the others wait for it."""
        with self._lock:
            if not credentials.valid:
                try:
                    credentials.refresh(_Exchange(self.settings.provider_timeout))
                except exceptions.GoogleAuthError as exc:
                    raise ProviderError("fcm/oauth", str(exc), failover=True) from exc
            return credentials.token

    def _forget_token(self) -> None:
        with self._lock:
            if self._credentials is not None:
                self._credentials.token = None


def _read_credentials(path: str) -> service_account.Credentials:
    """The credentials of a service account's JSON key file (at most 64 KiB)."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CREDENTIALS + 1)
    except OSError as exc:
        why = f"The service account file {path} can't be read ({exc.strerror})."
        raise ProviderError("fcm/credentials", why, failover=True) from exc
    try:
        if len(data) > MAX_CREDENTIALS:
            raise ValueError("it is larger than 64 KiB")
        info = json.loads(data)
        credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
        if not credentials.project_id:
            raise ValueError("it names no project_id")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        why = f"The file {path} is not a service account's JSON key: {exc}."
        raise ProviderError("fcm/credentials", why, failover=True) from exc
    return credentials


class _Exchange(transport.Request):
    """google-auth's transport over httpx, for the token exchange (about once an hour)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        try:
            with kept_alive(timeout or self.timeout) as client:
                status, answered, data = posted(client, url, body, headers or {}, "oauth", method)
        except ProviderError as exc:
            raise exceptions.TransportError(str(exc)) from exc
        if status == 429 or status >= 500:  # failed over at once, not retried for seconds
            raise exceptions.TransportError(f"The token endpoint answered HTTP {status}.")
        return _Answer(status, dict(answered), data)


class _Answer(transport.Response):
    def __init__(self, status: int, headers: dict, data: bytes) -> None:
        self._status, self._headers, self._data = status, headers, data

    status = property(lambda self: self._status)
    headers = property(lambda self: self._headers)
    data = property(lambda self: self._data)


def _text(value: object) -> str:
    """A data value as FCM takes it: a string as it is, anything else as its JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _json(data: bytes) -> dict:
    try:
        answer = json.loads(data or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _error(status: int, error: object) -> ProviderError:
    """FCM v1's error `{"code", "message", "status", "details"}` as a ProviderError."""
    error = error if isinstance(error, dict) else {}
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    code = next((d["errorCode"] for d in details if d.get("errorCode")), None)
    code = str(code or error.get("status") or status)
    message = str(error.get("message") or f"HTTP {status}")
    if code == "UNREGISTERED" or code == "INVALID_ARGUMENT" and _bad_token(message, details):
        return DeviceGone(f"FCM {code}: {message}")
    name = f"fcm/{code}"
    if code in TRANSIENT or status in (429, 500, 503):
        return ProviderError(name, message, transient=True)
    if status in (401, 403, 404) and code != "SENDER_ID_MISMATCH":
        return ProviderError(name, message, failover=True)  # credentials or project refused
    if status >= 500 or status < 400:
        return ProviderError(name, message, unknown=True)
    return ProviderError(name, message)


def _bad_token(message: str, details: list[dict]) -> bool:
    """True when FCM's INVALID_ARGUMENT is about the registration token."""
    fields = {v.get("field") for d in details for v in d.get("fieldViolations") or []}
    return "registration token" in message.lower() or "message.token" in fields
