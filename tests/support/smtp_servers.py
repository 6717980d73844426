"""SMTP servers for the tests: a real one (aiosmtpd, with STARTTLS on a certificate made here
and AUTH, or implicit TLS) that keeps what it received, and a scripted one of our own for what
a well-behaved server never does."""

from __future__ import annotations

import datetime
import email
import ipaddress
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "herald", "s3cret"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Received:
    """What a server got: messages (parsed), envelopes, connections."""

    messages: list[email.message.Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    connections: int = 0


class _Handler:
    def __init__(self, received: Received) -> None:
        self.received = received

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.received.messages.append(email.message_from_bytes(envelope.original_content))
        self.received.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 Ok: queued as HERALDTEST"


def _authenticator(server, session, envelope, mechanism, auth_data):
    good = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=good)


class _Counting(Controller):
    """A controller whose server counts the connections it accepted."""

    def __init__(self, received: Received, **kwargs) -> None:
        self.received = received
        super().__init__(_Handler(received), **kwargs)

    def factory(self):
        self.received.connections += 1
        return super().factory()


def real_server(tls: ssl.SSLContext, implicit: bool = False) -> tuple[Controller, Received]:
    """A started aiosmtpd on 127.0.0.1: STARTTLS (or implicit TLS) and AUTH required."""
    received = Received()
    options = dict(
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_authenticator,
        auth_require_tls=not implicit,  # implicit TLS: the whole connection is TLS
        auth_required=True,
    )
    if implicit:
        controller = _Counting(received, ssl_context=tls, **options)
    else:
        controller = _Counting(received, tls_context=tls, require_starttls=True, **options)
    controller.start()
    received.connections = 0  # the controller's own check that its server is up
    return controller, received


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server side's TLS context of this certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScriptedServer(socketserver.ThreadingTCPServer):
    """An SMTP server of our own, answering each step as `script` says: a step's value is
    the reply bytes to send, "close" to drop the connection, or "silent" to answer nothing.
    Steps: greeting, ehlo, mail, rcpt, data, dot. It keeps the data it got."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: dict[str, object]) -> None:
        self.script = script
        self.received = Received()
        self.data: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Scripted)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.server_address[1]}?tls=none"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


DEFAULTS = {
    "greeting": b"220 scripted ESMTP\r\n",
    "ehlo": b"250-scripted\r\n250 8BITMIME\r\n",
    "mail": b"250 2.1.0 Ok\r\n",
    "rcpt": b"250 2.1.5 Ok\r\n",
    "data": b"354 End data with <CR><LF>.<CR><LF>\r\n",
    "dot": b"250 2.0.0 Ok: queued as SCRIPTED\r\n",
}
COMMANDS = {b"EHLO": "ehlo", b"HELO": "ehlo", b"MAIL": "mail", b"RCPT": "rcpt", b"DATA": "data"}


class _Scripted(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self) -> None:
        self.server.received.connections += 1
        if not self._answer("greeting"):
            return
        while line := self.rfile.readline(65536):
            verb = line[:4].upper()
            if verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            step = COMMANDS.get(verb)
            if step is None:
                self.wfile.write(b"250 Ok\r\n")
                continue
            if not self._answer(step):
                return
            if step == "data" and self.server.script.get("data", DEFAULTS["data"])[:3] == b"354":
                self.server.data.append(self._read_data())
                if not self._answer("dot") or self.server.script.get("close_after_message"):
                    return

    def _read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline(1 << 20)) not in (b".\r\n", b""):
            lines.append(line)
        return b"".join(lines)

    def _answer(self, step: str) -> bool:
        """Send the step's reply; False when the script ends the conversation here."""
        reply = self.server.script.get(step, DEFAULTS[step])
        if reply == "close":
            return False
        if reply == "silent":
            threading.Event().wait(self.timeout)
            return False
        if callable(reply):
            reply(self.wfile)
            return False
        self.wfile.write(reply)
        return True
