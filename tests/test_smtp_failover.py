"""SPEC §8's failover rules end to end: a Herald (both modes) whose e-mail chain is two SMTP
servers, the first scripted to fail at one step and the second a well-behaved one; each row
asserts what each server received."""

from __future__ import annotations

import pytest

from shared.providers.urls import parse_chain
from tests.support.calls import Client, send, until_final, upsert_notification
from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald
from tests.support.smtp_servers import ScriptedServer

NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Notice {{ n }}", "text": "Notice {{ n }}"}}},
}
# step scripted on the first server: (the e-mail's final status, whether the second got it)
ROWS = {
    "421 at connect": ({"greeting": b"421 4.3.2 busy\r\n"}, "sent", True),
    "530 at MAIL FROM": ({"mail": b"530 5.7.0 authentication required\r\n"}, "sent", True),
    "554 to DATA": ({"data": b"554 5.3.0 not now\r\n"}, "sent", True),
    "550 at RCPT TO": ({"rcpt": b"550 5.1.1 no such user\r\n"}, "failed", False),
    "closed after the data": ({"dot": "close"}, "unknown", False),
    "no answer to the final dot": ({"dot": "silent"}, "unknown", False),
}


@pytest.fixture(scope="module")
def second():
    server = ScriptedServer({})
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["embedded", "production"])
def mode(request):
    return request.param


@pytest.mark.parametrize("row", ROWS, ids=list(ROWS))
def test_each_failover_rule(row, mode, second, request, tmp_path):
    script, status, second_got_it = ROWS[row]
    first = ScriptedServer(script)
    chain = parse_chain("email", f"{first.url},{second.url}")
    herald = build_herald(
        mode,
        tmp_path,
        request,
        email_providers=chain,
        provider_timeout=1.0,
        provider_retry_budget=0.5,
        send_wait=15.0,
    )
    before = len(second.data)
    try:
        client = Client(herald.app, new_project(herald, "t")["apiKey"])
        upsert_notification(client, NOTICE)
        address = f"{token()}@example.com"
        [result] = send(
            client,
            {
                "notificationId": "notice",
                "userId": f"u-{token()}",
                "userEmail": address,
                "data": {"n": 1},
            },
        )
        message = until_final(client, result["id"])
    finally:
        first.stop()
        stop_herald(herald)
    assert message["channels"]["email"]["status"] == status, message
    got = [data for data in second.data[before:] if address.encode() in data]
    assert len(got) == (1 if second_got_it else 0), row
    if status == "sent":  # the first server took nothing of it
        assert not any(address.encode() in data for data in first.data)
    _assert_attempts(message["channels"]["email"], [url.name for url in chain], status)


def _assert_attempts(email: dict, names: list[str], status: str) -> None:
    """The channel names the provider that took (or refused) it, and lists every attempt."""
    attempts = [(a["provider"], a["outcome"]) for a in email["attempts"]]
    if status == "sent":  # the provider that took it named, every attempt listed
        assert email["provider"] == names[1]
        assert attempts == [(names[0], "failover"), (names[1], "sent")]
        assert email["attempts"][0]["error"] and email["attempts"][1]["error"] is None
    else:  # the first one answered (or may have taken it): the second was never tried
        assert email["provider"] == names[0]
        assert attempts == [(names[0], status)]
    assert all(a["at"].endswith("+00:00") for a in email["attempts"])
