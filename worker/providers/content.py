"""What a channel hands its provider: a rendered `Email` (with its MIME) or `Sms`, built from
the message's rendering (`shared.templating.message`), the user's address and the project's
settings."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, formatdate
from typing import Any


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
    # The one-click unsubscribe link (RFC 8058) of a notification whose e-mail may be muted.
    unsubscribe: str | None = None

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
        if self.unsubscribe is not None:
            mail["List-Unsubscribe"] = f"<{self.unsubscribe}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return mail


UNFOLDED = frozenset({"List-Unsubscribe"})


class _Compat32(Compat32):
    """compat32, writing a header that is ASCII, one line and short as it is: compat32 folds
    every header through `email.header.Header`, about 10 µs each, for nothing to fold."""

    def _fold(self, name, value, sanitize):
        # A link is written on one line (up to RFC 5322's 998), as mail clients read it best.
        most = 996 if name in UNFOLDED else 76
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) < most
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


@dataclass(frozen=True)
class Device:
    """One of a user's push devices (SPEC §10): an FCM or APNs `token`, or a Web Push
    subscription (`endpoint`, and its `p256dh` and `auth` keys, base64url as the browser gave
    them)."""

    id: str  # Herald's id of the device row
    kind: str  # "fcm", "apns" or "webpush"
    token: str | None = None
    endpoint: str | None = None
    p256dh: str | None = None
    auth: str | None = None


@dataclass(frozen=True)
class Push:
    """A rendered push for one device, ready for a provider."""

    message_id: str
    device: Device
    title: str
    body: str
    icon: str | None = None
    url: str | None = None
    data: dict[str, Any] | None = None  # a JSON object of at most 4 KiB


@dataclass(frozen=True)
class PushSend:
    """A rendered push for each of the user's devices still to push (filled in by the claim,
    which reads them, with the outcomes earlier deliveries recorded): what the push channel's
    delivery sends, one `Push` a device."""

    message_pk: int
    message_id: str
    title: str
    body: str
    icon: str | None = None
    url: str | None = None
    data: dict[str, Any] | None = None
    devices: tuple[Device, ...] = ()
    earlier: tuple[dict[str, Any], ...] = ()

    def to(self, device: Device) -> Push:
        """The push for one device."""
        return Push(self.message_id, device, self.title, self.body, self.icon, self.url, self.data)


Content = dict[str, Any]
ProviderContent = Email | Sms | Push  # what a provider's `build` takes


def email_content(message_id: str, to: str, content: Content, project: Any) -> Email:
    """The e-mail to send (its From is set: the rendering's `missing` said so)."""
    return Email(
        message_id,
        to,
        content["from"],
        content["fromName"],
        content["replyTo"],
        content["subject"],
        content["html"],
        content["text"],
    )


def sms_content(message_id: str, to: str, content: Content, project: Any) -> Sms:
    """The SMS to send, from the project's sender id."""
    return Sms(message_id, to, content["text"], project.sms_sender_id)


def push_content(message_id: str, to: int, content: Content, row: Any) -> PushSend:
    """The push to send to the user's devices (`to`: how many; the claim reads them)."""
    return PushSend(
        row.pk,
        message_id,
        content["title"],
        content["body"],
        content["icon"],
        content["url"],
        content["data"],
    )


# Channel name -> the builder of its provider's content.
CONTENTS: dict[str, Callable[[str, Any, Content, Any], ProviderContent | PushSend]] = {
    "email": email_content,
    "sms": sms_content,
    "push": push_content,
}
