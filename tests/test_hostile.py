"""Hostile input, row by row: each gets its documented answer, stores nothing, and leaves the
server answering `/healthz` within a second with its memory where it was."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.calls import send, until_final, upsert_notification
from tests.support.data import notification, token
from tests.support.health import assert_still_answering, peak_rss_mb
from tests.support.received import emails_sent

MAX_GROWTH_MB = 200
DEEP = "{{ " + "(" * 100 + "firstName" + ")" * 100 + " }}"

# (channel, field, template): each refused when compiled, before anything is stored.
BOMBS = [
    ("email", "subject", '{{ "a" * 1000000000 }}'),
    ("email", "html", "{{ range(10**9)|list }}"),
    ("widget", "content", "{{ 2**(2**40) }}"),
    ("email", "html", '{{ "a"|center(1000000000) }}'),
    ("email", "text", '{{ "%999999999d" % 1 }}'),
    ("widget", "content", "{{ [1] * 10**9 }}"),
    ("sms", "text", "{{ lipsum(100000) }}"),
    ("email", "subject", DEEP),
    ("widget", "content", "{{ " + "-" * 2000 + "increment }}"),
    ("email", "html", "{{ firstName" + "|upper" * 80 + " }}"),
    # folded at compile time before the bounds summed them: a named width, a huge wrap
    ("sms", "text", '{{ "%(a)200000000s" % {"a": "x"} }}'),
    ("email", "html", '{{ ("a " * 50000)|wordwrap(1, wrapstring="w" * 1000) }}'),
    ("widget", "content", '{{ ("é" * 200000)|tojson }}'),
]
OVERRIDE_BOMBS = [
    ("emailSettingsOverride", "subject", '{{ "a" * 1000000000 }}'),
    ("emailSettingsOverride", "html", "{{ range(10**9)|list }}"),
    ("emailSettingsOverride", "text", "{{ 10**(10**9) }}"),
    ("widgetSettingsOverride", "content", "{{ 'ab' * 10**9 }}"),
    ("widgetSettingsOverride", "content", DEEP),
    ("emailSettingsOverride", "html", DEEP),
    ("widgetSettingsOverride", "link", '{{ "x"|center(10**9) }}'),
    ("emailSettingsOverride", "html", '{{ "%(a)200000000s" % {"a": "x"} }}'),
]


def strict_json(raw: bytes):
    """Parse as a strict client does: UTF-8 only, no NaN or Infinity, no lone surrogate."""

    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    parsed = json.loads(raw.decode("utf-8"), parse_constant=refuse)
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # a lone surrogate fails here
    return parsed


@pytest.mark.parametrize(("channel", "field", "template"), BOMBS)
def test_template_bomb_in_a_notification_is_refused_and_nothing_stored(
    herald, client, channel, field, template
):
    before = peak_rss_mb()
    notification_id = f"bomb-{token()}"
    templates = dict(notification()["templates"]["en"])
    templates[channel] = {**templates[channel], field: template}
    body = notification(notification_id, templates={"en": templates})

    response = client.post("/notifications.upsert", body)

    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "template/invalid"
    assert f"en.{channel}.{field}" in response.get_json()["message"]
    assert client.get("/notifications.get", id=notification_id).status_code == 404
    assert_still_answering(herald)
    assert peak_rss_mb() - before < MAX_GROWTH_MB


@pytest.mark.parametrize(("override", "field", "template"), OVERRIDE_BOMBS)
def test_template_bomb_in_an_override_is_an_item_error_and_nothing_stored(
    herald, client, override, field, template
):
    upsert_notification(client, notification())
    before = peak_rss_mb()
    message_id = f"m-{token()}"
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "id": message_id}

    [result] = send(client, {**item, override: {field: template}})

    assert result["ok"] is False
    assert result["error"] == "template/invalid"
    assert (
        f"override.{'email' if override.startswith('email') else 'widget'}.{field}"
        in (result["message"])
    )
    assert client.get("/messages.get", id=message_id).status_code == 404
    assert client.get("/users.get", id=item["userId"]).status_code == 404
    assert_still_answering(herald)
    assert peak_rss_mb() - before < MAX_GROWTH_MB


@pytest.mark.parametrize("number", ["1e400", "-1e400", "[1, 2e999]"])
def test_a_number_that_overflows_is_a_per_item_data_error(herald, client, number):
    good, bad = f"u-{token()}", f"u-{token()}"
    body = (
        f'{{"users": [{{"id": "{bad}", "data": {{"x": {number}}}}}, {{"id": "{good}"}}]}}'
    ).encode()

    response = client.post("/users.upsert", data=body)

    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert (first["ok"], first["error"]) == (False, "data/invalid")
    assert second["ok"] is True
    assert client.get("/users.get", id=bad).status_code == 404
    assert client.get("/users.get", id=good).get_json()["user"]["data"] == {}
    assert_still_answering(herald)


def test_a_send_whose_data_overflows_is_a_data_error(herald, client):
    upsert_notification(client, notification())
    message_id = f"m-{token()}"
    body = (
        f'{{"messages": [{{"notificationId": "welcome", "userId": "u-{token()}", '
        f'"id": "{message_id}", "data": {{"total": 1e400}}}}]}}'
    ).encode()

    [result] = client.post("/messages.send", data=body).get_json()["results"]

    assert (result["ok"], result["error"]) == (False, "data/invalid")
    assert client.get("/messages.get", id=message_id).status_code == 404
    assert_still_answering(herald)


@pytest.mark.parametrize(
    "send_at",
    [
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59",
        "0001-01-01T00:00:00+01:00",
        "+10000-01-01T00:00:00Z",
        (datetime.now(UTC) + timedelta(days=366)).isoformat(),
    ],
)
def test_send_at_out_of_range_or_too_far_ahead_is_refused(herald, client, send_at):
    upsert_notification(client, notification())
    message_id = f"m-{token()}"
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "id": message_id}

    [result] = send(client, {**item, "sendAt": send_at})

    assert (result["ok"], result["error"]) == (False, "sendAt/invalid")
    assert client.get("/messages.get", id=message_id).status_code == 404
    assert_still_answering(herald)


def test_send_at_within_the_year_is_scheduled(herald, client):
    upsert_notification(client, notification())
    when = (datetime.now(UTC) + timedelta(days=364)).isoformat()

    [result] = send(client, {"notificationId": "welcome", "userId": f"u-{token()}", "sendAt": when})

    assert result["status"] == "scheduled"


@pytest.mark.parametrize(
    "cursor", ["99999999999999999999", "9223372036854775808", "-1", "0", "1e3", "١٢"]
)
def test_a_cursor_that_no_page_gave_is_cursor_invalid(herald, client, cursor):
    response = client.get("/messages.list", cursor=cursor)

    assert response.status_code == 400
    assert response.get_json()["error"] == "cursor/invalid"
    assert_still_answering(herald)


# (what, the raw body of a users.upsert naming user `victim`, status, error): bad encodings.
BAD_BYTES = [
    ("raw invalid UTF-8", b'{"users": [{"id": "victim", "firstName": "\xff\xfe"}]}', "invalidJson"),
    ("overlong NUL", b'{"users": [{"id": "victim", "firstName": "a\xc0\x80b"}]}', "invalidJson"),
    ("raw NUL", b'{"users": [{"id": "victim", "firstName": "a\x00b"}]}', "invalidJson"),
    ("escaped NUL", b'{"users": [{"id": "victim", "firstName": "a\\u0000b"}]}', "invalid"),
    ("escaped NUL in data", b'{"users": [{"id": "victim", "data": {"k\\u0000": 1}}]}', "invalid"),
    (
        "escaped lone surrogate",
        b'{"users": [{"id": "victim", "lastName": "\\ud800"}]}',
        "invalidJson",
    ),
    (
        "raw UTF-8 surrogate",
        b'{"users": [{"id": "victim", "lastName": "\xed\xa0\x80"}]}',
        "invalidJson",
    ),
    ("UTF-16 body", '{"users": [{"id": "victim"}]}'.encode("utf-16"), "invalidJson"),
]


@pytest.mark.parametrize(("what", "body", "reason"), BAD_BYTES, ids=[row[0] for row in BAD_BYTES])
def test_a_bad_encoding_is_refused_and_nothing_stored(herald, client, what, body, reason):
    response = client.post("/users.upsert", data=body)

    assert response.status_code == 400, (what, response.get_json())
    assert response.get_json()["error"] == f"body/{reason}"
    assert client.get("/users.get", id="victim").status_code == 404
    assert_still_answering(herald)


def test_a_newline_in_header_fields_never_reaches_the_e_mail(herald, client):
    upsert_notification(client, notification())
    address = f"h-{token()}@example.com"
    item = {
        "notificationId": "welcome",
        "userId": f"u-{token()}",
        "userEmail": address,
        "userFirstName": "Ann\r\nBcc: victim@example.com",
        "data": {"code": "1\x07\x0b"},
        "emailSettingsOverride": {"fromName": "Support\r\nX-Evil: 1", "subject": "Hi {{ code }}"},
    }

    [result] = send(client, item)

    assert result["ok"] is True, result
    [sent] = [mail for mail in emails_sent(herald) if mail["to"] == address]
    assert sent["subject"] == "Hi 1"
    assert "\n" not in sent["from"] and "\r" not in sent["from"]
    if "raw" in sent:  # the outbox's file: every header as written
        mail = email.message_from_bytes(sent["raw"])
        assert (mail["Bcc"], mail["X-Evil"]) == (None, None)
    assert_still_answering(herald)


def test_a_widget_icon_longer_than_its_column_fails_the_message_readably(herald, client):
    upsert_notification(client, notification())
    item = {"notificationId": "welcome", "userId": f"u-{token()}"}

    [result] = send(client, {**item, "widgetSettingsOverride": {"icon": "https://x/" + "a" * 3000}})

    message = until_final(client, result["id"])
    assert (message["status"], message["error"]) == ("failed", "template/renderFailed")
    assert "2,048" in message["message"]
    listed = client.get("/messages.list", userId=item["userId"])
    assert strict_json(listed.data)["messages"][0]["id"] == result["id"]
    assert_still_answering(herald)
