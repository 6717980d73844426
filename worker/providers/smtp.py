"""E-mail over SMTP (SPEC §8): `smtp://` with STARTTLS required, `smtps://` (implicit TLS),
`smtp://HOST:PORT?tls=none` (plain). Each worker thread keeps one connection open and reuses
it across messages; a connection the server closed meanwhile is reopened once, before anything
of the message went. Certificates are checked against the system's trust store (OpenSSL
honours `SSL_CERT_FILE`).

Every step's reply decides what the chain may do (`smtp_replies.py`): a refusal before the
server accepted anything hands the message to the next provider, a 5xx for the recipient fails
it, and a connection lost after the message's data went out, or no answer to the final dot,
leaves it `unknown`.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
import threading
import uuid

from shared.infra import Settings
from shared.providers.urls import ProviderUrl
from worker.providers.base import BuildFailed, Provider, ProviderError
from worker.providers.content import Email
from worker.providers.smtp_replies import BoundedSMTP, BoundedSMTPS, Step, classify

_LINE_END = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpEmailProvider(Provider):
    """Sends each e-mail as the MIME Herald builds, over one kept-alive connection a thread."""

    kind = "smtp"

    def __init__(self, settings: Settings, url: ProviderUrl) -> None:
        super().__init__(settings, url)
        self.timeout = settings.provider_timeout
        self.tls = "implicit" if url.kind == "smtps" else url.options.get("tls", "starttls")
        self.context = ssl.create_default_context()
        self.local = threading.local()

    def build(self, content: Email) -> tuple[str, str, bytes]:
        mail = content.mime()
        domain = content.from_address.rpartition("@")[2] or "herald.invalid"
        message_id = f"<{uuid.uuid4().hex}@{domain}>"  # short enough never to be folded
        mail["Message-ID"] = message_id
        return message_id, content.from_address, bytes(mail)

    def send(self, content: Email, posting=lambda: None) -> str:
        """Deliver over this thread's connection: the Message-ID Herald wrote."""
        try:
            message_id, sender, data = self.build(content)
        except Exception as exc:  # noqa: BLE001 - nothing went
            raise BuildFailed(exc) from exc
        connection = self._connection()
        try:
            connection = self._envelope(connection, sender, content.to)
            posting()  # the data goes out next: from here on it may arrive
            self._data(connection, data)
        except ProviderError:
            self._drop()
            raise
        return message_id

    def _envelope(self, connection: smtplib.SMTP, sender: str, to: str) -> smtplib.SMTP:
        """MAIL FROM and RCPT TO; a reused connection the server closed is reopened once:
        the connection they went on."""
        try:
            code, reply = connection.mail(sender)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            connection = self._connection()
            code, reply = self._step(Step.MAIL, connection.mail, sender)
        except (OSError, smtplib.SMTPException) as exc:
            raise classify(Step.MAIL, exc) from exc
        if code != 250:
            raise classify(Step.MAIL, smtplib.SMTPResponseException(code, reply))
        code, reply = self._step(Step.RCPT, connection.rcpt, to)
        if code not in (250, 251):
            raise classify(Step.RCPT, smtplib.SMTPResponseException(code, reply))
        return connection

    def _data(self, connection: smtplib.SMTP, data: bytes) -> None:
        """DATA, the message and the final dot."""
        self._step(Step.DATA, connection.putcmd, "data")
        code, reply = self._step(Step.DATA, connection.getreply)
        if code != 354:
            raise classify(Step.DATA, smtplib.SMTPResponseException(code, reply))
        body = _LINE_END.sub(b"\r\n", data)
        body = _LEADING_DOT.sub(b"..", body)  # dot-stuffing
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self._step(Step.DOT, connection.send, body + b".\r\n")
        code, reply = self._step(Step.DOT, connection.getreply)
        if code != 250:
            raise classify(Step.DOT, smtplib.SMTPResponseException(code, reply))

    def _step(self, step: Step, call, *args, **kwargs):
        """One SMTP exchange; its failure classified for this step."""
        try:
            return call(*args, **kwargs)
        except (OSError, smtplib.SMTPException) as exc:
            raise classify(step, exc) from exc

    def _connection(self) -> smtplib.SMTP:
        """This thread's open connection, or a new one (connected, TLS, EHLO, AUTH)."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self._open()
            self.local.connection = connection
        return connection

    def _open(self) -> smtplib.SMTP:
        """Connect, greet, secure and authenticate; ProviderError (failover) on any refusal."""
        url = self.url
        if self.tls == "implicit":
            make = lambda: BoundedSMTPS(timeout=self.timeout, context=self.context)  # noqa: E731
        else:
            make = lambda: BoundedSMTP(timeout=self.timeout)  # noqa: E731
        connection = make()
        connection._host = url.host  # noqa: SLF001 - the name TLS checks the certificate for
        try:
            code, reply = self._step(Step.CONNECT, connection.connect, url.host, url.port)
            if code != 220:
                raise classify(Step.CONNECT, smtplib.SMTPResponseException(code, reply))
            self._greet(connection)
            if url.username is not None:
                self._step(Step.AUTH, connection.login, url.username, url.password or "")
        except ProviderError:
            connection.close()
            raise
        return connection

    def _greet(self, connection: smtplib.SMTP) -> None:
        """EHLO and, for smtp://, STARTTLS (required unless tls=none) and EHLO again."""
        code, reply = self._step(Step.EHLO, connection.ehlo)
        if code != 250:
            raise classify(Step.EHLO, smtplib.SMTPResponseException(code, reply))
        if self.tls != "starttls":
            return
        if not connection.has_extn("starttls"):
            raise ProviderError(
                "smtp/noStartTls",
                "The server does not offer STARTTLS, which smtp:// requires (?tls=none for a "
                "plain relay).",
                failover=True,
            )
        self._step(Step.STARTTLS, connection.starttls, context=self.context)
        self._step(Step.EHLO, connection.ehlo)

    def close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        """Close this thread's connection: the next message starts on a clean one."""
        connection = getattr(self.local, "connection", None)
        self.local.connection = None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()
