"""The FCM provider against a stand-in of FCM HTTP v1 and of Google's OAuth2 token endpoint on
127.0.0.1: the service account's assertion and the bearer token checked by the stand-in."""

from __future__ import annotations

import threading
import time

import pytest

from shared.infra import Settings
from shared.providers.urls import parse_provider_url
from tests.support.push_fcm_apns import FcmStandin, write_service_account
from worker.providers.base import DeviceGone, ProviderError
from worker.providers.content import Device, Push
from worker.providers.fcm import FcmProvider

pytestmark = pytest.mark.unit


@pytest.fixture
def standin(tmp_path):
    server = FcmStandin()
    server.credentials, server.public_key = write_service_account(tmp_path, server.token_uri)
    yield server
    server.close()


def fcm(standin, credentials=None, timeout: float = 2.0) -> FcmProvider:
    path = credentials or standin.credentials
    url = f"fcm://?credentials={path}&baseUrl=http://127.0.0.1:{standin.port}"
    return FcmProvider(Settings(provider_timeout=timeout), parse_provider_url("push", url))


def push(token: str = "tok-1", **fields) -> Push:
    fields = {"title": "Hello", "body": "A new comment", **fields}
    return Push(message_id="m1", device=Device(id="d1", kind="fcm", token=token), **fields)


def test_sends_the_v1_message_and_returns_its_name(standin):
    name = fcm(standin).send(push(icon="https://x.test/i.png", url="https://x.test/c/1"))
    assert name == "projects/herald-test/messages/1"
    (got,) = standin.requests
    assert got["path"] == "/v1/projects/herald-test/messages:send"
    assert got["message"] == {
        "token": "tok-1",
        "notification": {
            "title": "Hello",
            "body": "A new comment",
            "image": "https://x.test/i.png",
        },
        "data": {"url": "https://x.test/c/1", "messageId": "m1"},
    }


def test_data_values_that_are_not_strings_are_sent_as_their_json(standin):
    data = {"kind": "comment", "id": 42, "tags": ["a", "b"], "meta": {"n": None}, "ok": True}
    fcm(standin).send(push(data=data))
    assert standin.requests[0]["message"]["data"] == {
        "kind": "comment",
        "id": "42",
        "tags": '["a", "b"]',
        "meta": '{"n": null}',
        "ok": "true",
        "messageId": "m1",
    }


def test_the_access_token_is_fetched_once_for_many_pushes(standin):
    provider = fcm(standin)
    for _ in range(5):
        provider.send(push())
    assert standin.exchanges == 1
    assert len({got["auth"] for got in standin.requests}) == 1


def test_one_kept_alive_connection_per_thread(standin):
    provider = fcm(standin)

    def pushes():
        for _ in range(4):
            provider.send(push())

    threads = [threading.Thread(target=pushes) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(standin.requests) == 12
    assert standin.exchanges == 1  # the threads waited for the one exchange
    # one connection per thread, and the token exchange's own
    assert len(standin.clients) == 3 + 1


def test_a_revoked_access_token_fails_over_and_the_next_push_gets_a_new_one(standin):
    provider = fcm(standin)
    provider.send(push())
    standin.issued.clear()
    with pytest.raises(ProviderError) as caught:
        provider.send(push())
    assert caught.value.code == "fcm/UNAUTHENTICATED" and caught.value.failover
    assert provider.send(push()).startswith("projects/")
    assert standin.exchanges == 2


@pytest.mark.parametrize("answer", ["UNREGISTERED", "INVALID_TOKEN"])
def test_a_token_fcm_no_longer_knows_is_a_gone_device(standin, answer):
    standin.answers["tok-1"] = answer
    with pytest.raises(DeviceGone):
        fcm(standin).send(push())


@pytest.mark.parametrize(
    ("answer", "code", "transient", "failover"),
    [
        ("INVALID_ARGUMENT", "fcm/INVALID_ARGUMENT", False, False),
        ("SENDER_ID_MISMATCH", "fcm/SENDER_ID_MISMATCH", False, False),
        ("QUOTA_EXCEEDED", "fcm/QUOTA_EXCEEDED", True, True),
        ("UNAVAILABLE", "fcm/UNAVAILABLE", True, True),
        ("INTERNAL", "fcm/INTERNAL", True, True),
        ("THIRD_PARTY_AUTH_ERROR", "fcm/THIRD_PARTY_AUTH_ERROR", False, True),
    ],
)
def test_fcm_errors_map_to_what_they_say_of_the_message(standin, answer, code, transient, failover):
    standin.answers["tok-1"] = answer
    with pytest.raises(ProviderError) as caught:
        fcm(standin).send(push())
    error = caught.value
    assert not isinstance(error, DeviceGone)
    assert (error.code, error.transient, error.failover, error.unknown) == (
        code,
        transient,
        failover,
        False,
    )


def test_a_push_whose_answer_never_comes_is_unknown(standin):
    standin.answers["tok-1"], standin.hang = "hang", 2.0
    with pytest.raises(ProviderError) as caught:
        fcm(standin, timeout=0.5).send(push())
    assert caught.value.code == "fcm/no-answer"
    assert caught.value.unknown and not caught.value.failover


@pytest.mark.parametrize("status", [400, 503])
def test_a_refused_token_exchange_fails_over_at_once_and_nothing_is_pushed(standin, status):
    standin.refuse_grants = status
    began = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        fcm(standin).send(push())
    assert caught.value.code == "fcm/oauth" and caught.value.failover
    assert standin.exchanges == 1 and time.monotonic() - began < 0.5  # not google-auth's retries
    assert standin.requests == []


def test_an_assertion_signed_with_another_key_is_refused(standin, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    credentials, _ = write_service_account(other, standin.token_uri)
    with pytest.raises(ProviderError) as caught:
        fcm(standin, credentials=credentials).send(push())
    assert caught.value.code == "fcm/oauth" and "invalid_grant" in caught.value.message


@pytest.mark.parametrize("content", [None, b"{}", b"x" * 70_000])
def test_credentials_that_cant_be_read_fail_over_with_a_sentence(standin, tmp_path, content):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_bytes(content)
    provider = fcm(standin, credentials=path)  # built: its check doesn't stop the worker
    with pytest.raises(ProviderError) as caught:
        provider.send(push())
    assert caught.value.code == "fcm/credentials" and caught.value.failover
    assert str(path) in caught.value.message


def test_a_credentials_file_that_appears_later_is_read_then(standin, tmp_path):
    path = tmp_path / "later.json"
    provider = fcm(standin, credentials=path)
    path.write_bytes(standin.credentials.read_bytes())
    assert provider.send(push()).startswith("projects/")


def test_an_fcm_that_cant_be_reached_is_transient(standin):
    provider = fcm(standin)
    provider.send(push())  # the access token is held
    standin.close()
    with pytest.raises(ProviderError) as caught:
        provider.send(push())
    assert caught.value.code == "fcm/connect" and caught.value.transient
