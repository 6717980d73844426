"""What an SMTP failure at each step says of the message (SPEC §8), and an `smtplib.SMTP`
whose replies are bounded (lines, bytes, time), so a server answering garbage or without end
frees the worker thread within its time-outs."""

from __future__ import annotations

import enum
import smtplib
import socket
import ssl
import time

from worker.providers.base import ProviderError

MAX_REPLY_LINES = 100
MAX_REPLY_BYTES = 64 * 1024


class Step(enum.Enum):
    """The steps of one SMTP send, in order."""

    CONNECT = "connect"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    DOT = "dot"  # the message's data and the final dot: from here on it may have arrived


BEFORE_ACCEPTING = {Step.CONNECT, Step.EHLO, Step.STARTTLS, Step.AUTH, Step.MAIL, Step.DATA}


class GarbledReply(smtplib.SMTPException):
    """A reply that is not SMTP, too long, or endless."""


def classify(step: Step, exc: Exception) -> ProviderError:
    """The ProviderError of a failure at this step."""
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, GarbledReply):
        return _refused(step, exc.smtp_code, exc.smtp_error)
    what = _describe(exc)
    if step is Step.DOT:  # the data went out and no valid answer came: it may have arrived
        return ProviderError("smtp/noAnswer", f"after the message's data: {what}", unknown=True)
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return ProviderError("smtp/tls", what, failover=True)
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror, socket.timeout, TimeoutError)):
        return ProviderError("smtp/unreachable", f"at {step.value}: {what}", transient=True)
    return ProviderError("smtp/connection", f"at {step.value}: {what}", failover=True)


def _refused(step: Step, code: int, reply: bytes | str) -> ProviderError:
    """A reply code the server gave at this step."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    error, message = f"smtp/{code}", f"at {step.value}: {code} {text[:200]}"
    temporary = 400 <= code < 500
    if step in BEFORE_ACCEPTING or isinstance(code, int) and code < 400:
        return ProviderError(error, message, transient=temporary, failover=True)
    if temporary:  # RCPT or the final dot, 4xx: the server did not take it, later it may
        return ProviderError(error, message, transient=True)
    return ProviderError(error, message)  # 5xx for this recipient or this message


def _describe(exc: Exception) -> str:
    """A short sentence of a failure."""
    return f"{type(exc).__name__}: {exc}"[:300]


class _BoundedReplies:
    """`getreply` reading at most MAX_REPLY_LINES lines, MAX_REPLY_BYTES bytes, within twice
    the time-out."""

    timeout: float

    def getreply(self):  # noqa: C901 - smtplib's loop, bounded
        if self.file is None:
            self.file = self.sock.makefile("rb")
        lines, size, deadline = [], 0, time.monotonic() + 2 * (self.timeout or 5.0)
        while True:
            try:
                line = self.file.readline(smtplib._MAXLINE + 1)  # noqa: SLF001
            except OSError as exc:
                self.close()
                raise smtplib.SMTPServerDisconnected(f"reading the reply: {exc}") from exc
            if not line:
                self.close()
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            size += len(line)
            lines.append(line[4:].strip(b" \t\r\n"))
            if len(line) > smtplib._MAXLINE or size > MAX_REPLY_BYTES:  # noqa: SLF001
                raise GarbledReply("a reply line past the size SMTP allows")
            if len(lines) > MAX_REPLY_LINES or time.monotonic() > deadline:
                raise GarbledReply("a reply without end")
            code = line[:3]
            if not code.isdigit() or line[3:4] not in (b"-", b" ", b"\r", b"\n", b""):
                raise GarbledReply(f"not an SMTP reply: {line[:40]!r}")
            if line[3:4] != b"-":
                return int(code), b"\n".join(lines)


class BoundedSMTP(_BoundedReplies, smtplib.SMTP):
    """smtplib.SMTP with bounded replies."""


class BoundedSMTPS(_BoundedReplies, smtplib.SMTP_SSL):
    """smtplib.SMTP_SSL with bounded replies."""
