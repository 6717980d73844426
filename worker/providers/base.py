"""The channel provider interface: `send` builds the provider's request, posts it and parses the
answer; each provider overrides those steps. Every failure becomes one `ProviderError`."""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
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

    def mime(self) -> Message:
        """The e-mail as MIME: the text part, and the HTML as its alternative. Built with the
        compat32 classes: the modern header registry costs milliseconds an e-mail."""
        if self.html is None:
            mail: Message = _part(self.text or "", "plain")
        else:
            # The parts are base64, which has no '.': a boundary with one never occurs in them,
            # so the generator need not search the parts for a free one.
            boundary = f"==herald.{secrets.token_hex(16)}=="
            mail = MIMEMultipart("alternative", boundary=boundary, policy=POLICY)
            mail.attach(_part(self.text or "", "plain"))
            mail.attach(_part(self.html, "html"))
        mail["From"] = formataddr((self.from_name or "", self.from_address), charset="utf-8")
        mail["To"] = _header(self.to)
        if self.reply_to:
            mail["Reply-To"] = _header(self.reply_to)
        mail["Subject"] = _header(self.subject)
        mail["Date"] = formatdate(localtime=False)
        mail["X-Herald-Message-Id"] = self.message_id
        return mail


class _Compat32(Compat32):
    """compat32, writing a header that is ASCII, one line and short as it is: compat32 folds
    every header through `email.header.Header`, about 10 µs each, for nothing to fold."""

    def _fold(self, name, value, sanitize):
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) < 76
            and not any(c in value for c in "\r\n")
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


POLICY = _Compat32()


def _part(body: str, subtype: str) -> MIMEText:
    """One UTF-8 text part, ending with a newline as e-mail bodies do."""
    text = body if body.endswith("\n") else body + "\n"
    return MIMEText(text, subtype, "utf-8", policy=POLICY)


def _header(value: str) -> str | Header:
    """A header value, RFC 2047-encoded when it is not ASCII."""
    return value if value.isascii() else Header(value, "utf-8")


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
