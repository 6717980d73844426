"""The channel provider interface: `Provider.send` builds the provider's request, posts it and
parses the answer, each provider implementing those steps; every failure is a `ProviderError`.
`send_with_retries` is how the delivery calls `send`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

from shared.infra import Settings
from shared.providers.urls import ProviderUrl
from worker.providers.content import Email, Push, Sms


class ProviderError(Exception):
    """A provider refused or failed: its code and message.

    What it says of the message decides what the chain does next (SPEC §8):

    - `transient` (throttling, a connection never made): nothing was taken and a retry may get
      through; retried within the budget, then handed to the next provider;
    - `failover` (unreachable, TLS or authentication failed, a provider-level refusal before
      anything was accepted): the provider certainly did not take it; the next provider is
      tried at once;
    - `unknown`: the request may have been delivered (it went out, the answer never came);
      recorded as such, never retried, never given to another provider;
    - none of these: refused for this recipient (`failed`); the next provider would refuse the
      same address.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        transient: bool = False,
        unknown: bool = False,
        failover: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.unknown = unknown
        self.failover = failover or transient

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class DeviceGone(ProviderError):
    """The push service says this device is gone (FCM `UNREGISTERED`, APNs 410, Web Push 404
    or 410): it is removed from the user's devices; the send failed for it."""

    def __init__(self, message: str) -> None:
        super().__init__("device/gone", message)


class BuildFailed(ProviderError):
    """The provider's request could not be built from the content (its library refused it):
    nothing went."""

    def __init__(self, cause: Exception) -> None:
        super().__init__("build/failed", f"{type(cause).__name__}: {cause}")
        self.cause = cause


def _nothing() -> None:
    """No one to tell that the request is going."""


class Provider:
    """Base of a channel's providers, one module each (`ses.py`, `sns.py`, `outbox.py`; an SMTP
    or Twilio provider is one more). A provider:

    - says its `kind`, the scheme of its URL (`PROVIDERS` picks its class by it); an instance's
      `name` is its chain member's name (in results, logs and metrics);
    - is built from the `Settings` and its `ProviderUrl`, once per process, and is used from
      many threads;
    - a push provider says the `devices` it pushes to (`webpush`, `fcm`, `apns`): a device
      goes through the members of the push chain that push to its kind;
    - implements `build`, `post` and `parse`, which `send` calls in that order. `post` and
      `parse` raise `ProviderError` for every failure: `transient=True` where a retry may get
      through (nothing was processed), `unknown=True` where the request may have gone.
    """

    kind: str = ""
    devices: frozenset[str] = frozenset()  # a push provider: the kinds of device it pushes to

    def __init__(self, settings: Settings, url: ProviderUrl) -> None:
        self.settings = settings
        self.url = url
        self.name = url.name

    def send(self, content: Email | Sms | Push, posting: Callable[[], object] = _nothing) -> str:
        """Deliver `content`: the provider's message id, or ProviderError (`BuildFailed` when
        nothing went). `posting` is called once the request is built, as it starts to go."""
        try:
            request = self.build(content)
        except Exception as exc:  # noqa: BLE001 - whatever refused it, nothing went
            raise BuildFailed(exc) from exc
        posting()
        return self.deliver(request)

    def close(self) -> None:
        """Close what this thread keeps open (a command that sends once, then exits)."""

    def deliver(self, request) -> str:
        """Post a built request and parse the answer: the provider's message id."""
        return self.parse(self.post(request))

    def build(self, content):
        """The provider's request for this content."""
        raise NotImplementedError(f"{type(self).__name__} must implement build")

    def post(self, request):
        """Send the request; raise ProviderError on any failure."""
        raise NotImplementedError(f"{type(self).__name__} must implement post")

    def parse(self, response) -> str:
        """The provider's message id from its answer."""
        raise NotImplementedError(f"{type(self).__name__} must implement parse")


def send_with_retries(
    provider: Provider,
    content: Email | Sms | Push,
    budget: float,
    posting: Callable[[], object] = _nothing,
) -> str:
    """`provider.send`, sent again after a transient error with jittered backoff for at most
    `budget` s."""
    started = time.monotonic()
    try:
        return provider.send(content, posting)  # the usual case pays for no retry machinery
    except ProviderError as exc:
        if not exc.transient or budget <= 0.1:
            raise
    time.sleep(random.uniform(0.05, 0.1))  # back off before the first retry too
    retrying = Retrying(
        retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.transient),
        stop=stop_after_delay(max(budget - (time.monotonic() - started), 0.0)),
        wait=wait_exponential_jitter(initial=0.1, max=1.0),
        sleep=time.sleep,
        reraise=True,
    )
    return retrying(provider.send, content, posting)
