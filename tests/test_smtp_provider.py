"""The SMTP provider against a real SMTP server (aiosmtpd: STARTTLS on a certificate made here,
AUTH, implicit TLS) and against a scripted one for what well-behaved servers never do: each
failure classified as SPEC §8 says, and the thread freed within its time-outs."""

from __future__ import annotations

import time

import pytest

from shared.infra.config import Settings
from shared.providers.urls import parse_provider_url
from tests.support.smtp_servers import (
    PASSWORD,
    USER,
    ScriptedServer,
    make_certificate,
    real_server,
    server_context,
)
from worker.providers import ProviderError, build_provider
from worker.providers.content import Email

pytestmark = pytest.mark.unit


def email(to: str = "ada@example.com") -> Email:
    return Email(
        message_id="m-1",
        to=to,
        from_address="team@example.com",
        from_name="Team",
        reply_to=None,
        subject="Hello",
        html="<p>Hi <b>Ada</b></p>",
        text="Hi Ada",
    )


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this one certificate
    return cert, key


def provider(url: str, timeout: float = 1.0):
    return build_provider(Settings(provider_timeout=timeout), parse_provider_url("email", url))


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_a_real_server_gets_the_mime_over_tls_with_auth(certificate, implicit):
    controller, received = real_server(server_context(*certificate), implicit)
    scheme = "smtps" if implicit else "smtp"
    try:
        sender = provider(f"{scheme}://{USER}:{PASSWORD}@127.0.0.1:{controller.port}")
        ids = [sender.send(email()) for _ in range(3)]
    finally:
        controller.stop()
    assert len(received.messages) == 3 and received.connections == 1  # one kept-alive connection
    mail = received.messages[0]
    assert mail["Message-ID"] == ids[0] and len(set(ids)) == 3
    assert mail["Subject"] == "Hello" and mail["To"] == "ada@example.com"
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert "Hi <b>Ada</b>" in parts["text/html"].get_payload(decode=True).decode()
    assert "Hi Ada" in parts["text/plain"].get_payload(decode=True).decode()
    assert received.recipients[0] == ["ada@example.com"]


def test_wrong_password_and_untrusted_certificate_fail_over(certificate, tmp_path, monkeypatch):
    controller, received = real_server(server_context(*certificate))
    try:
        with pytest.raises(ProviderError) as refused:
            provider(f"smtp://{USER}:wrong@127.0.0.1:{controller.port}").send(email())
        other, _key = make_certificate(tmp_path / "..")  # another certificate, not this server's
        monkeypatch.setenv("SSL_CERT_FILE", str(other))
        with pytest.raises(ProviderError) as untrusted:
            provider(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{controller.port}").send(email())
    finally:
        controller.stop()
    assert refused.value.failover and not refused.value.unknown, refused.value
    assert untrusted.value.failover and untrusted.value.code == "smtp/tls", untrusted.value
    assert received.messages == []


def test_a_connection_the_server_closed_is_reopened():
    server = ScriptedServer({"close_after_message": True})  # it drops each idle connection
    sender = provider(server.url)
    try:
        sender.send(email())
        time.sleep(0.1)
        sender.send(email())
    finally:
        server.stop()
    assert len(server.data) == 2 and server.received.connections == 2


ROWS = {
    # step: script, then the flags of the error: (failover, transient, unknown)
    "421 at connect": ({"greeting": b"421 4.3.2 busy\r\n"}, (True, True, False)),
    "554 at connect": ({"greeting": b"554 5.7.1 go away\r\n"}, (True, False, False)),
    "451 at MAIL FROM": ({"mail": b"451 4.3.0 try later\r\n"}, (True, True, False)),
    "550 at RCPT TO": ({"rcpt": b"550 5.1.1 no such user\r\n"}, (False, False, False)),
    "451 at RCPT TO": ({"rcpt": b"451 4.2.0 greylisted\r\n"}, (True, True, False)),
    "554 to DATA": ({"data": b"554 5.3.0 no\r\n"}, (True, False, False)),
    "closed after DATA": ({"dot": "close"}, (False, False, True)),
    "no answer to the dot": ({"dot": "silent"}, (False, False, True)),
    "552 to the dot": ({"dot": b"552 5.3.4 too big\r\n"}, (False, False, False)),
    "garbage greeting": ({"greeting": b"HELLO THERE\r\n"}, (True, False, False)),
    "endless reply": ({"ehlo": lambda out: _endless(out)}, (True, False, False)),
    "10 MB line": ({"ehlo": b"250-" + b"x" * 10_000_000 + b"\r\n"}, (True, False, False)),
    "closed at connect": ({"greeting": "close"}, (True, False, False)),
}


def _endless(out) -> None:
    try:
        while True:
            out.write(b"250-more\r\n")
    except OSError:
        pass


@pytest.mark.parametrize("row", ROWS, ids=list(ROWS))
def test_each_failure_is_classified_within_the_timeouts(row):
    script, (failover, transient, unknown) = ROWS[row]
    server = ScriptedServer(script)
    started = time.monotonic()
    try:
        with pytest.raises(ProviderError) as failed:
            provider(server.url, timeout=1.0).send(email())
    finally:
        server.stop()
    error = failed.value
    assert (error.failover, error.transient, error.unknown) == (failover, transient, unknown), error
    assert time.monotonic() - started < 3.5
    went = row in ("closed after DATA", "no answer to the dot", "552 to the dot")
    assert bool(server.data) == went


def test_no_starttls_offered_fails_over_unless_plain_was_asked():
    server = ScriptedServer({})
    try:
        with pytest.raises(ProviderError) as refused:
            provider(server.url.replace("?tls=none", "")).send(email())
        assert refused.value.code == "smtp/noStartTls" and refused.value.failover
        assert server.data == []
    finally:
        server.stop()
