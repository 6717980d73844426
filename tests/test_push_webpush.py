"""The Web Push provider against a Web Push service stand-in on 127.0.0.1: the payload is
encrypted for a real subscription key pair (the test decrypts it), the VAPID token verifies
under the configured key's public key, the service's answers map to SPEC §8's outcomes, and
an endpoint at a private address is refused before anything connects."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import time

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.infra import Settings
from shared.providers.urls import parse_provider_url
from shared.push.vapid import load_private_key, new_key_pair, public_key_b64, vapid_public_key
from tests.support.cli import run_herald
from tests.support.push_webpush import WebPushStandin
from worker.providers import build_provider
from worker.providers.base import DeviceGone, ProviderError
from worker.providers.content import Device, Push

VAPID_PRIVATE, VAPID_PUBLIC = new_key_pair()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """A browser's subscription keys: the P-256 pair and the 16-byte auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.p256dh = b64url(point)

    def device(self, endpoint: str) -> Device:
        return Device(
            "d1", "webpush", endpoint=endpoint, p256dh=self.p256dh, auth=b64url(self.auth)
        )

    def read(self, body: bytes) -> dict:
        """The push's payload, decrypted as the browser does."""
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def standin():
    server = WebPushStandin()
    yield server
    server.close()


@pytest.fixture
def browser():
    return Browser()


def provider(key: str | None = VAPID_PRIVATE, allow_private: bool = True, timeout: float = 1.0):
    settings = Settings(
        vapid_private_key=key, webhooks_allow_private=allow_private, provider_timeout=timeout
    )
    url = parse_provider_url("push", "webpush://?subject=mailto:ops@example.com")
    return build_provider(settings, url)


def push(device: Device, **fields) -> Push:
    return Push(message_id="m1", device=device, title="Hello", body="You have mail", **fields)


def test_push_is_encrypted_for_the_subscription_and_signed_with_the_vapid_key(standin, browser):
    taken = provider().send(push(browser.device(standin.endpoint("a")), url="https://app/x"))
    (got,) = standin.received
    assert taken.startswith(f"{standin.origin}/message/a-")
    assert got.vapid_error is None and got.vapid_key == VAPID_PUBLIC
    assert got.headers["Content-Encoding"] == "aes128gcm"
    assert got.headers["Urgency"] == "normal" and int(got.headers["TTL"]) > 0
    assert got.headers["Authorization"].startswith("vapid t=")
    payload = browser.read(got.body)
    assert payload == {
        "title": "Hello",
        "body": "You have mail",
        "url": "https://app/x",
        "messageId": "m1",
    }


def test_a_pem_vapid_key_signs_as_its_raw_form_does(standin, browser):
    pem = (
        load_private_key(VAPID_PRIVATE)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    provider(pem).send(push(browser.device(standin.endpoint("a"))))
    assert standin.received[0].vapid_error is None
    assert standin.received[0].vapid_key == VAPID_PUBLIC


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_raises_device_gone(standin, browser, status):
    standin.answers["gone"] = status
    with pytest.raises(DeviceGone):
        provider().send(push(browser.device(standin.endpoint("gone"))))


@pytest.mark.parametrize(
    ("answer", "flags"),
    [
        (429, (True, True, False)),
        (500, (False, False, True)),
        (503, (False, False, True)),
        (401, (False, True, False)),
        (403, (False, True, False)),
        (400, (False, False, False)),
        (413, (False, False, False)),
    ],
)
def test_answers_map_to_provider_errors(standin, browser, answer, flags):
    standin.answers["x"] = answer
    with pytest.raises(ProviderError) as caught:
        provider().send(push(browser.device(standin.endpoint("x"))))
    error = caught.value
    assert error.code == f"webpush/{answer}"
    assert (error.transient, error.failover, error.unknown) == flags


def test_no_answer_within_the_timeout_is_unknown(standin, browser):
    standin.answers["slow"] = "hang"
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        provider(timeout=0.5).send(push(browser.device(standin.endpoint("slow"))))
    assert caught.value.unknown and caught.value.code == "webpush/no-answer"
    assert time.monotonic() - started < 2.0
    assert len(standin.received) == 1  # it went: never given to another provider


def test_a_redirect_is_not_followed(standin, browser):
    standin.answers["moved"] = "redirect"
    with pytest.raises(ProviderError) as caught:
        provider().send(push(browser.device(standin.endpoint("moved"))))
    assert caught.value.code == "webpush/301" and "not followed" in caught.value.message
    assert [got.endpoint for got in standin.received] == ["moved"]


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket was asked to connect to, from now on."""
    seen: list = []
    real = socket.create_connection

    def watched(address, *args, **kwargs):
        seen.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", watched)
    return seen


@pytest.mark.parametrize(
    "where", ["127.0.0.1:{port}", "[::1]:{port}", "169.254.169.254", "localhost:{port}"]
)
def test_an_endpoint_at_a_private_address_is_refused_before_connecting(
    standin, browser, connects, where
):
    endpoint = f"https://{where.format(port=standin.port)}/push/a"
    with pytest.raises(ProviderError) as caught:
        provider(allow_private=False).send(push(browser.device(endpoint)))
    error = caught.value
    assert error.code == "url/private"
    assert not (error.transient or error.failover or error.unknown)
    assert connects == [] and standin.connections == 0 and standin.received == []


def test_an_http_endpoint_is_refused_without_the_private_switch(standin, browser, connects):
    with pytest.raises(ProviderError) as caught:
        provider(allow_private=False).send(push(browser.device(standin.endpoint("a"))))
    assert caught.value.code == "url/invalid"
    assert connects == [] and standin.connections == 0


def test_without_a_vapid_key_nothing_goes_and_the_next_provider_is_tried(standin, browser):
    with pytest.raises(ProviderError) as caught:
        provider(key=None).send(push(browser.device(standin.endpoint("a"))))
    assert caught.value.code == "vapid/missing" and caught.value.failover
    assert standin.connections == 0


def test_a_payload_over_what_web_push_carries_is_refused_before_sending(standin, browser):
    with pytest.raises(ProviderError) as caught:
        provider().send(push(browser.device(standin.endpoint("a")), data={"x": "y" * 4000}))
    assert caught.value.code == "build/failed" and "3993" in caught.value.message
    assert standin.connections == 0


def test_pushes_from_one_thread_share_one_kept_alive_connection(standin, browser):
    webpush = provider()
    for name in ("a", "b"):
        webpush.send(push(browser.device(standin.endpoint(name))))
    assert len(standin.received) == 2 and standin.connections == 1
    first, second = standin.received
    assert first.vapid_error is None and second.vapid_error is None
    assert first.headers["Authorization"] == second.headers["Authorization"]  # signed once


def test_herald_push_keys_prints_a_pair_whose_public_key_is_the_privates():
    result = run_herald("push", "keys")
    assert result.exit_code == 0, result.output
    private = re.search(r"^HERALD_VAPID_PRIVATE_KEY=([A-Za-z0-9_-]{43})$", result.output, re.M)
    public = re.search(r"applicationServerKey\): ([A-Za-z0-9_-]{87})$", result.output, re.M)
    assert private and public
    assert public_key_b64(load_private_key(private[1])) == public[1]
    assert vapid_public_key(Settings(vapid_private_key=private[1])) == public[1]
    assert vapid_public_key(Settings()) is None
