"""The APNs provider against an HTTP/2 stand-in of APNs on 127.0.0.1 (h2c), which checks the
ES256 provider token against the test's .p8 public key."""

from __future__ import annotations

import threading

import jwt
import pytest

from shared.infra import Settings
from shared.providers.urls import parse_provider_url
from tests.support.push_fcm_apns import ApnsStandin, write_p8
from worker.providers.apns import ApnsProvider, ProviderToken
from worker.providers.base import BuildFailed, DeviceGone, ProviderError
from worker.providers.content import Device, Push

pytestmark = pytest.mark.unit

KEY_ID, TEAM_ID, TOPIC = "KEY1234567", "TEAM123456", "com.example.app"
TOKEN = "a" * 64


@pytest.fixture
def standin(tmp_path):
    key, public_key = write_p8(tmp_path)
    server = ApnsStandin(public_key, KEY_ID, TEAM_ID, TOPIC)
    server.key = key
    yield server
    server.close()


def apns(standin, key=None, timeout: float = 2.0) -> ApnsProvider:
    url = (
        f"apns://?key={key or standin.key}&keyId={KEY_ID}&teamId={TEAM_ID}&topic={TOPIC}"
        f"&host=http://127.0.0.1:{standin.port}"
    )
    return ApnsProvider(Settings(provider_timeout=timeout), parse_provider_url("push", url))


def push(token: str = TOKEN, **fields) -> Push:
    fields = {"title": "Hello", "body": "A new comment", **fields}
    return Push(message_id="m1", device=Device(id="d1", kind="apns", token=token), **fields)


def test_sends_the_alert_over_http2_and_returns_the_apns_id(standin):
    data = {"commentId": 42}
    apns_id = apns(standin).send(push(url="https://x.test/c/1", data=data))
    (got,) = standin.requests
    assert apns_id == got["apns_id"]
    assert got["http_version"] == "2"
    assert got["token"] == TOKEN
    assert got["payload"] == {
        "aps": {"alert": {"title": "Hello", "body": "A new comment"}},
        "url": "https://x.test/c/1",
        "data": {"commentId": 42},
        "messageId": "m1",
    }
    headers = got["headers"]
    assert (headers["apns-topic"], headers["apns-push-type"]) == (TOPIC, "alert")
    assert headers["apns-priority"] == "10" and int(headers["apns-expiration"]) > 0


def test_an_icon_makes_the_alert_mutable(standin):
    apns(standin).send(push(icon="https://x.test/i.png"))
    payload = standin.requests[0]["payload"]
    assert payload["aps"]["mutable-content"] == 1 and payload["icon"] == "https://x.test/i.png"


def test_one_signed_provider_token_serves_many_pushes(standin):
    provider = apns(standin)
    for _ in range(5):
        provider.send(push())
    tokens = {got["headers"]["authorization"] for got in standin.requests}
    assert len(tokens) == 1
    signed = tokens.pop().removeprefix("bearer ")
    assert jwt.get_unverified_header(signed)["kid"] == KEY_ID
    claims = jwt.decode(signed, standin.public_key, algorithms=["ES256"])
    assert claims["iss"] == TEAM_ID


def test_one_kept_alive_http2_connection_per_thread(standin):
    provider = apns(standin)

    def pushes():
        for _ in range(4):
            provider.send(push())

    threads = [threading.Thread(target=pushes) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(standin.requests) == 12
    assert {got["http_version"] for got in standin.requests} == {"2"}
    assert len(standin.clients) == 3


def test_a_token_signed_with_another_key_fails_over(standin, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    key, _ = write_p8(other)
    with pytest.raises(ProviderError) as caught:
        apns(standin, key=key).send(push())
    assert caught.value.code == "apns/InvalidProviderToken" and caught.value.failover


@pytest.mark.parametrize("answer", ["Unregistered", "BadDeviceToken"])
def test_a_token_apns_no_longer_takes_is_a_gone_device(standin, answer):
    standin.answers[TOKEN] = answer
    with pytest.raises(DeviceGone) as caught:
        apns(standin).send(push())
    assert answer in caught.value.message


@pytest.mark.parametrize(
    ("answer", "transient", "failover"),
    [
        ("ExpiredProviderToken", False, True),
        ("TooManyRequests", True, True),
        ("ServiceUnavailable", True, True),
        ("PayloadTooLarge", False, False),
    ],
)
def test_apns_errors_map_to_what_they_say_of_the_message(standin, answer, transient, failover):
    standin.answers[TOKEN] = answer
    with pytest.raises(ProviderError) as caught:
        apns(standin).send(push())
    error = caught.value
    assert not isinstance(error, DeviceGone)
    assert (error.code, error.transient, error.failover, error.unknown) == (
        f"apns/{answer}",
        transient,
        failover,
        False,
    )


def test_a_push_whose_answer_never_comes_is_unknown(standin):
    standin.answers[TOKEN], standin.hang = "hang", 2.0
    with pytest.raises(ProviderError) as caught:
        apns(standin, timeout=0.5).send(push())
    assert caught.value.code == "apns/no-answer"
    assert caught.value.unknown and not caught.value.failover


def test_a_payload_over_4_kib_is_refused_before_anything_goes(standin):
    provider = apns(standin)
    provider.send(push(data={"text": "x" * 4002}))  # 4,096 bytes: APNs takes it
    with pytest.raises(BuildFailed) as caught:
        provider.send(push(data={"text": "x" * 4003}))
    assert "4,097 bytes" in caught.value.message and "4,096" in caught.value.message
    assert len(standin.requests) == 1


@pytest.mark.parametrize("content", [None, b"not a key"])
def test_a_key_that_cant_be_read_fails_over_with_a_sentence(standin, tmp_path, content):
    path = tmp_path / "AuthKey_bad.p8"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ProviderError) as caught:
        apns(standin, key=path).send(push())
    assert caught.value.code == "apns/key" and caught.value.failover
    assert str(path) in caught.value.message


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_provider_token_is_signed_again_after_40_minutes(standin):
    clock = Clock()
    token = ProviderToken(str(standin.key), KEY_ID, TEAM_ID, clock)
    first = token.get()
    clock.now += 39 * 60
    assert token.get() == first
    clock.now += 2 * 60
    assert token.get() != first


def test_a_refused_provider_token_is_signed_again_no_sooner_than_20_minutes(standin):
    # Given a token APNs refused a minute after it was signed
    clock = Clock()
    token = ProviderToken(str(standin.key), KEY_ID, TEAM_ID, clock)
    first = token.get()
    clock.now += 60
    token.refused(first)
    # Then it is kept until 20 minutes have passed (TooManyProviderTokenUpdates), not 40
    assert token.get() == first
    clock.now += 19 * 60
    second = token.get()
    assert second != first
    clock.now += 60
    assert token.get() == second
