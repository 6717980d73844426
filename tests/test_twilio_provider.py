"""The Twilio provider against a stand-in of the Messages API on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest

from shared.infra import Settings
from shared.providers.urls import parse_provider_url
from tests.support.twilio_standin import TwilioStandin
from worker.providers import build_provider
from worker.providers.base import ProviderError
from worker.providers.content import Sms


@pytest.fixture
def standin():
    server = TwilioStandin()
    yield server
    server.close()


def provider(port: int, option: str = "from=%2B15005550006", timeout: float = 1.0):
    url = f"twilio://ACtest:tok@?{option}&baseUrl=http://127.0.0.1:{port}"
    return build_provider(Settings(provider_timeout=timeout), parse_provider_url("sms", url))


def sms(text: str = "hello") -> Sms:
    return Sms(message_id="m1", to="+14155550100", text=text, sender_id=None)


def test_sends_the_messages_api_request_and_returns_the_sid(standin):
    sid = provider(standin.port).send(sms())
    assert sid.startswith("SM")
    (got,) = standin.requests
    assert got["path"] == "/2010-04-01/Accounts/ACtest/Messages.json"
    assert got["auth"] == "Basic QUN0ZXN0OnRvaw=="
    assert got["form"] == {"To": "+14155550100", "Body": "hello", "From": "+15005550006"}


def test_messaging_service_sid_replaces_from(standin):
    provider(standin.port, "messagingServiceSid=MG123").send(sms())
    assert standin.requests[0]["form"]["MessagingServiceSid"] == "MG123"
    assert "From" not in standin.requests[0]["form"]


def test_connection_is_kept_alive(standin):
    twilio = provider(standin.port)
    for _ in range(3):
        twilio.send(sms())
    assert len(standin.requests) == 3 and len(standin.peers) == 1


def test_an_idle_connection_the_server_closed_is_replaced_before_sending(standin):
    standin.close_idle = True
    twilio = provider(standin.port)
    twilio.send(sms())
    time.sleep(0.2)  # the stand-in has closed it by now
    assert twilio.send(sms()).startswith("SM")  # not `unknown`: nothing went on the dead one
    assert len(standin.requests) == 2 and len(standin.peers) == 2


@pytest.mark.parametrize(
    ("fault", "code", "flags"),
    [
        ("21211", "twilio/21211", (False, False, False)),
        ("20003", "twilio/20003", (False, True, False)),
        ("20429", "twilio/20429", (True, True, False)),
        ("500", "twilio/20500", (False, False, True)),
        ("close", "twilio/no-answer", (False, False, True)),
    ],
)
def test_faults_map_to_provider_errors(standin, fault, code, flags):
    standin.fault = fault
    with pytest.raises(ProviderError) as caught:
        provider(standin.port).send(sms())
    error = caught.value
    assert error.code == code
    assert (error.transient, error.failover, error.unknown) == flags
    assert len(standin.requests) == 1


def test_a_hang_is_unknown_within_the_timeout(standin):
    standin.fault = "hang"
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        provider(standin.port, timeout=0.3).send(sms())
    assert caught.value.unknown and time.monotonic() - started < 2


def test_connection_refused_is_failover():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        provider(port).send(sms())
    assert caught.value.failover and not caught.value.unknown
