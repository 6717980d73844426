"""The channel provider interface: `send` builds the provider's request, posts it and parses the
answer; each provider overrides those steps. Every failure becomes one `ProviderError`."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter


@dataclass(frozen=True)
class Email:
    """A rendered e-mail, ready for a provider."""

    message_id: str
    to: str
    from_address: str
    from_name: str | None
    reply_to: str | None
    subject: str
    html: str | None
    text: str | None

    def mime(self) -> EmailMessage:
        """The e-mail as MIME: the text part, and the HTML as its alternative."""
        mail = EmailMessage()
        mail["From"] = formataddr((self.from_name or "", self.from_address))
        mail["To"] = self.to
        if self.reply_to:
            mail["Reply-To"] = self.reply_to
        mail["Subject"] = self.subject
        mail["Date"] = formatdate(localtime=False)
        mail["X-Herald-Message-Id"] = self.message_id
        mail.set_content(self.text or "")
        if self.html is not None:
            mail.add_alternative(self.html, subtype="html")
        return mail


@dataclass(frozen=True)
class Sms:
    """A rendered SMS, ready for a provider."""

    message_id: str
    to: str
    text: str
    sender_id: str | None


class ProviderError(Exception):
    """A provider refused or failed: its code and message.

    `transient` errors (throttling, a 5xx, a connection never made) are retried within the
    budget; `unknown` means the request may have been delivered (the answer never came), so it
    is recorded as such and never retried.
    """

    def __init__(
        self, code: str, message: str, *, transient: bool = False, unknown: bool = False
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.unknown = unknown

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class Provider:
    """Base of the providers of one channel (`email` or `sms`)."""

    def send(self, content: Email | Sms) -> str:
        """Deliver `content`; return the provider's message id or raise ProviderError."""
        return self.deliver(self.build(content))

    def deliver(self, request) -> str:
        """Post a built request and parse the answer: the provider's message id."""
        return self.parse(self.post(request))

    def build(self, content):
        """The provider's request for this content."""
        raise NotImplementedError

    def post(self, request):
        """Send the request; raise ProviderError on any failure."""
        raise NotImplementedError

    def parse(self, response) -> str:
        """The provider's message id from its answer."""
        raise NotImplementedError


def send_with_retries(provider: Provider, request, budget: float) -> str:
    """`provider.deliver` of a built request, retrying transient errors with jittered backoff
    for at most `budget` s."""
    started = time.monotonic()
    try:
        return provider.deliver(request)  # the usual case pays for no retry machinery
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
    return retrying(provider.deliver, request)
