"""Bad input to the webhook endpoints API (SPEC §9), both modes: each a 400 (or 413) with a
code and a sentence, nothing stored, and no connection ever made to a refused address (a
socket listens on the port named, and nothing reaches it); never a 500."""

from __future__ import annotations

import socket

import pytest

from tests.support.calls import Client, answer
from tests.support.webhook_test_receiver import listening as listening_socket

# A public address: no look-up (this machine may have no DNS), refused for another reason.
HOOK = {"url": "https://8.8.8.8/herald", "events": ["*"]}


@pytest.fixture
def listening():
    with listening_socket() as port_and_check:
        yield port_and_check


def refused(client: Client, body, status: int = 400, **post) -> str:
    """The code of a webhooks.upsert that must be refused, with nothing stored."""
    response = client.post("/webhooks.upsert", body, **post)
    got = answer(response, status)
    assert got["message"] and got["error"]
    assert answer(client.get("/webhooks.list"))["webhooks"] == []
    return got["error"]


def loopback_name() -> str:
    """A host name other than `localhost` that resolves to loopback here (/etc/hosts)."""
    name = socket.gethostname()
    addresses = {a[4][0] for a in socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)}
    if not all(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip(f"{name} does not resolve to loopback here")
    return name


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", None])
def test_a_host_on_loopback_is_refused_before_any_connection(client, listening, host):
    port, connected = listening
    url = f"https://{host or loopback_name()}:{port}/hook"
    assert refused(client, {**HOOK, "url": url}) == "url/private"
    assert not connected()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/herald", "url/invalid"),  # http without the private switch
        ("https://169.254.169.254/latest/meta-data", "url/private"),
        ("https://10.0.0.7/hook", "url/private"),
        ("https://224.0.0.1/hook", "url/private"),
        ("https://0.0.0.0/hook", "url/private"),
        ("https://user:pass@hooks.example.com/herald", "url/invalid"),
        ("https://hooks.example.com/" + "a" * 2100, "url/invalid"),
        ("https://hooks.example.com/ü", "url/invalid"),
        ("https://hooks.example.com/a b", "url/invalid"),
        ("https://hooks.example.com/#frag", "url/invalid"),
        ("https://hooks.example.com:99999/", "url/invalid"),
        ("ftp://hooks.example.com/", "url/invalid"),
        ("https:///nohost", "url/invalid"),
        ("https://no-such-host.invalid/", "url/unresolvable"),
    ],
)
def test_a_url_herald_may_not_post_to_is_refused(client, url, code):
    assert refused(client, {**HOOK, "url": url}) == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": HOOK["url"]}, "events/required"),
        ({"events": ["*"]}, "url/required"),
        ({**HOOK, "events": ["message.sent", "message.exploded"]}, "events/unknown"),
        ({**HOOK, "events": ["webhook.test"]}, "events/unknown"),
        ({**HOOK, "events": "*"}, "events/invalid"),
        ({**HOOK, "events": [1]}, "events/invalid"),
        ({**HOOK, "events": ["x" * 100]}, "events/invalid"),
        ({**HOOK, "events": ["message.sent"] * 30}, "events/invalid"),
        ({**HOOK, "url": 5}, "url/invalid"),
        ({**HOOK, "url": ["https://hooks.example.com/"]}, "url/invalid"),
        ({**HOOK, "enabled": "yes"}, "enabled/invalid"),
        ({**HOOK, "description": 5}, "description/invalid"),
        ({**HOOK, "description": "d" * 501}, "description/invalid"),
        ({**HOOK, "id": 7}, "id/invalid"),
        ({**HOOK, "id": "i" * 65}, "id/invalid"),
        ({**HOOK, "secret": "whsec_mine"}, "secret/unknown"),
        ({**HOOK, "Url": "x"}, "Url/unknown"),
        ([HOOK], "body/invalid"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused(client, body, code):
    assert refused(client, body) == code


def test_raw_bytes_that_are_not_json_or_not_utf8_are_refused(client):
    assert refused(client, None, data=b'{"url": "https://\xff\xfe.example.com/"}') == (
        "body/invalidJson"
    )
    assert refused(client, None, data=b"\xc3\x28") == "body/invalidJson"
    assert refused(client, None, data=b'{"url": "\\ud800", "events": ["*"]}') == (
        "body/invalidJson"
    )
    assert refused(client, None, data=b'{"url": "a\\u0000", "events": ["*"]}') == "body/invalid"


def test_a_huge_url_is_refused_with_a_code(client):
    assert refused(client, {**HOOK, "url": "https://a.example.com/" + "a" * 500_000}) == (
        "url/invalid"
    )
    assert refused(client, {**HOOK, "url": "https://a.example.com/" + "a" * 1_100_000}, 413) == (
        "body/tooLarge"
    )


@pytest.mark.parametrize("path", ["/webhooks.delete", "/webhooks.rotateSecret", "/webhooks.test"])
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "id/required"),
        ({"id": 5}, "id/invalid"),
        ({"id": None}, "id/required"),
        ({"id": "wh", "extra": 1}, "extra/unknown"),
        ({"id": "nope"}, "webhook/notFound"),
    ],
)
def test_a_call_naming_an_endpoint_takes_one_string_id(client, path, body, code):
    status = 404 if code.endswith("notFound") else 400
    assert answer(client.post(path, body), status)["error"] == code
