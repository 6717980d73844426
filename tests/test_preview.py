"""POST /templates.preview: every channel rendered as a send would render it (the same
language fallback, limits and errors), undefined names listed, and nothing sent or stored."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from shared.infra.models import messages
from shared.templating.preview import count_sms
from tests.support.calls import answer, send, upsert_notification, upsert_users
from tests.support.data import notification, phone, token
from tests.support.received import emails_sent, sms_sent

ORDER = {
    "subject": "Order {{ order.number }} for {{ firstName }}",
    "html": '<p>Total {{ order.total }}</p><p><a href="https://shop.example/o/{{ id }}">See it</a>',
}


def localized(notification_id: str) -> dict:
    """A notification with English and Portuguese templates of every channel."""
    body = notification(notification_id)
    body["templates"]["pt"] = {
        "email": {"subject": "Olá {{ firstName }}", "html": "<p>Código {{ code }}</p>"},
        "sms": {"text": "Código {{ code }}"},
        "widget": {"content": "Bem-vindo {{ firstName }}"},
    }
    return body


def test_a_template_with_an_undefined_nested_name_sends_with_the_blank(herald, client):
    # Given an e-mail template that reads order.total and order.number, and no order in data
    body = notification(withSMS=False, withWidget=False, templates={"en": {"email": ORDER}})
    upsert_notification(client, body)
    address = f"blank-{token()}@example.com"
    user = {"notificationId": "welcome", "userId": f"u-{token()}", "userEmail": address}

    [result] = send(client, {**user, "userFirstName": "Ann", "data": {"id": 7}})

    assert result["ok"] and result["channels"]["email"]["status"] == "sent", result
    [mail] = [m for m in emails_sent(herald) if m["to"] == address]
    assert mail["subject"] == "Order  for Ann"
    assert "<p>Total </p>" in mail["html"]


def test_preview_lists_the_undefined_names_and_renders_them_blank(client):
    body = notification(withSMS=False, withWidget=False, templates={"en": {"email": ORDER}})
    upsert_notification(client, body)

    preview = answer(
        client.post("/templates.preview", {"notificationId": "welcome", "data": {"id": 7}})
    )

    assert preview["email"]["subject"] == "Order  for"
    assert preview["email"]["html"].startswith("<p>Total </p>")
    assert preview["undefined"] == ["firstName", "order.number", "order.total"]
    assert preview["widget"] is None and preview["sms"] is None


def test_preview_of_a_saved_notification_falls_back_from_pt_br_to_pt(client):
    upsert_notification(client, localized("localized"))
    user = f"u-{token()}"
    upsert_users(client, {"id": user, "firstName": "Ana", "language": "pt-BR"})

    preview = answer(
        client.post(
            "/templates.preview",
            {"notificationId": "localized", "userId": user, "data": {"code": "42"}},
        )
    )

    assert preview["language"] == "pt"
    assert preview["email"]["subject"] == "Olá Ana"
    assert preview["email"]["text"] == "Código 42\n"
    assert preview["sms"]["text"] == "Código 42"
    assert preview["widget"]["content"] == "Bem-vindo Ana"
    assert preview["undefined"] == []


def test_preview_of_an_unsaved_notification_falls_back_from_pt_br_to_pt(client):
    body = localized(f"draft-{token()}")

    preview = answer(
        client.post(
            "/templates.preview",
            {"notification": body, "language": "pt-BR", "data": {"code": "7"}},
        )
    )

    assert preview["language"] == "pt"
    assert preview["sms"] == {"text": "Código 7", "length": 8, "segments": 1, "encoding": "UCS-2"}
    assert preview["undefined"] == ["firstName"]
    assert client.get("/notifications.get", id=body["id"]).status_code == 404


def test_preview_of_an_over_limit_template_answers_what_a_send_records(herald, client):
    # Given an SMS template that renders past its 1,600 characters
    body = notification(withEmail=False, withWidget=False)
    body["templates"]["en"]["sms"]["text"] = "{% for i in range(2000) %}x{% endfor %}"
    upsert_notification(client, body)
    user = f"u-{token()}"
    upsert_users(client, {"id": user, "telephone": phone()})

    refused = answer(
        client.post("/templates.preview", {"notificationId": "welcome", "userId": user}), 400
    )
    [sent] = send(client, {"notificationId": "welcome", "userId": user})

    assert refused == {"error": sent["error"], "message": sent["message"]}
    assert refused["error"] == "template/renderFailed"
    assert "1,600 characters" in refused["message"]


NESTED = "{% set a = [1] * 1000 %}{% set b = [a] * 1000 %}"


@pytest.mark.parametrize(
    "text",
    [
        NESTED + "{{ [b] * 1000 }}",
        NESTED + "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{{ [c, c, c, c, c, c] }}",
        NESTED + "{% set c = [] %}{% for i in range(1000) %}{{ c.append(b) }}{% endfor %}{{ c }}",
        NESTED + "{{ dict(x=b, y=b) | join }}",
    ],
)
def test_preview_refuses_a_value_holding_too_much_at_once(client, text):
    # A list of lists prints in one call no deadline interrupts: it is refused when built
    body = notification(f"draft-{token()}", withEmail=False, withWidget=False)
    body["templates"]["en"]["sms"]["text"] = text
    started = time.monotonic()

    refused = answer(client.post("/templates.preview", {"notification": body}), 400)

    assert refused["error"] == "template/renderFailed"
    assert "the items a list or dict holds at every depth" in refused["message"]
    assert time.monotonic() - started < 2


def test_preview_sends_nothing_and_stores_nothing(herald, client, project):
    upsert_notification(client, notification())
    user = f"u-{token()}"
    emails_before, sms_before = len(emails_sent(herald)), len(sms_sent(herald))

    preview = answer(
        client.post(
            "/templates.preview",
            {
                "notificationId": "welcome",
                "data": {"firstName": "Ann", "code": "1", "userId": user},
            },
        )
    )

    assert preview["email"]["from"] == "sender@herald.example.com"
    assert preview["sms"]["text"] == "Ann, your code is 1"
    assert len(emails_sent(herald)) == emails_before
    assert len(sms_sent(herald)) == sms_before
    with herald.engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(messages)
            .where(messages.c.project_id == project["projectId"])
        ).scalar()
    assert count == 0


def test_preview_for_an_unknown_user_is_user_not_found_and_creates_no_user(client):
    upsert_notification(client, notification())
    user = f"u-{token()}"

    refused = answer(
        client.post("/templates.preview", {"notificationId": "welcome", "userId": user}), 404
    )

    assert refused["error"] == "user/notFound"
    assert client.get("/users.get", id=user).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"notificationId": "nope"}, 404, "notification/notFound"),
        ({}, 400, "notificationId/required"),
        ({"notificationId": "welcome", "notification": {}}, 400, "notificationId/required"),
        ({"notificationId": "welcome", "language": "??"}, 400, "language/invalid"),
        ({"notificationId": "welcome", "data": [1]}, 400, "data/invalid"),
        ({"notificationId": "welcome", "colour": "red"}, 400, "colour/unknown"),
        ({"notification": "welcome"}, 400, "notification/invalid"),
    ],
)
def test_preview_refuses_bad_requests_with_a_clear_error(client, body, status, error):
    upsert_notification(client, notification())
    refused = answer(client.post("/templates.preview", body), status)
    assert refused["error"] == error and refused["message"]


def test_preview_of_an_unsaved_notification_that_does_not_compile_is_template_invalid(client):
    body = notification(f"draft-{token()}")
    body["templates"]["en"]["sms"]["text"] = "{{ oops "

    refused = answer(client.post("/templates.preview", {"notification": body}), 400)

    assert refused["error"] == "template/invalid"
    assert "en.sms.text" in refused["message"]


def test_preview_spends_the_backend_budget(client):
    upsert_notification(client, notification())
    response = client.post("/templates.preview", {"notificationId": "welcome"})
    assert response.status_code == 200
    assert int(response.headers["RateLimit-Remaining"]) >= 0
    assert "RateLimit-Limit" in response.headers


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("", ("GSM-7", 0, 0)),
        ("a" * 160, ("GSM-7", 160, 1)),
        ("a" * 161, ("GSM-7", 161, 2)),
        ("a" * 306, ("GSM-7", 306, 2)),
        ("a" * 307, ("GSM-7", 307, 3)),
        ("€" * 80, ("GSM-7", 160, 1)),  # an extension character takes two septets
        ("a" * 152 + "€" + "a" * 10, ("GSM-7", 164, 2)),  # never cut between its septets
        ("a" * 152 + "€" + "a" * 152, ("GSM-7", 306, 3)),
        ("ç" * 70, ("UCS-2", 70, 1)),  # ç is not in GSM 03.38 (Ç is)
        ("ç" * 71, ("UCS-2", 71, 2)),
        ("ç" * 134, ("UCS-2", 134, 2)),
        ("ç" * 135, ("UCS-2", 135, 3)),
        ("ç" * 66 + "😀", ("UCS-2", 68, 1)),  # an emoji is two UTF-16 units
        ("ç" * 66 + "😀" + "ç" * 66, ("UCS-2", 134, 3)),  # the pair is not cut either
    ],
)
def test_sms_is_counted_in_gsm_7_or_ucs_2_parts(text, counted):
    count = count_sms(text)
    assert (count.encoding, count.length, count.segments) == counted
