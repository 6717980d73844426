"""messages.send end to end: delivery by e-mail, SMS and widget with per-message results."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time

import pytest

from tests.conftest import moto_sent, phone, token

NOTIFICATION = {
    "id": "welcome",
    "name": "Welcome",
    "withEmail": True,
    "withSMS": True,
    "withWidget": True,
    "defaultLanguage": "en",
    "templates": {
        "en": {
            "email": {
                "subject": "Hello {{ firstName }}",
                "html": "<p>Hi {{ firstName }}, your code is {{ code }}</p>",
                "text": "Hi {{ firstName }}: {{ code }}",
            },
            "sms": {"text": "{{ firstName }}, your code is {{ code }}"},
            "widget": {"content": "Welcome <b>{{ firstName }}</b> #{{ increment }}"},
        },
    },
}


def upsert_notification(client, **changes):
    body = {**NOTIFICATION, **changes}
    response = client.post("/notifications.upsert", body)
    assert response.status_code == 200, response.get_json()
    return body


def send(client, *messages):
    response = client.post("/messages.send", {"messages": list(messages)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def emails_sent(herald) -> list[dict]:
    """Every e-mail the providers took: {to, from, subject, html}."""
    if herald.settings.email_provider == "ses":
        return [
            {
                "to": m["destinations"]["ToAddresses"][0],
                "from": m["source"],
                "subject": m["subject"],
                "html": m["body"],
                "id": m["id"],
            }
            for m in moto_sent(herald.moto_url)[0]
        ]
    out = []
    for path in sorted((herald.outbox / "email").glob("*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = mail.get_body(("html",))
        out.append(
            {
                "to": mail["To"],
                "from": mail["From"],
                "subject": mail["Subject"],
                "html": html.get_content() if html else None,
                "id": path.stem,
                "raw": path.read_bytes(),
            }
        )
    return out


def sms_sent(herald) -> list[dict]:
    """Every SMS the providers took: {to, text, id}."""
    if herald.settings.sms_provider == "sns":
        return [
            {"to": m["phone_number"], "text": m["message"], "id": m["message_id"]}
            for m in moto_sent(herald.moto_url)[1]
        ]
    log = herald.outbox / "sms.log"
    if not log.exists():
        return []
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return [{"to": m["to"], "text": m["text"], "id": m["providerMessageId"]} for m in lines]


def test_batch_of_fifty_sends_fifty_emails_and_fifty_sms(herald, client):
    upsert_notification(client)
    tag = token()
    numbers = {i: phone() for i in range(50)}
    messages = [
        {
            "notificationId": "welcome",
            "userId": f"{tag}-{i}",
            "userEmail": f"user{i}.{tag}@example.com",
            "userTelephone": numbers[i],
            "userFirstName": f"Name{i}",
            "data": {"code": f"C{i:03d}"},
        }
        for i in range(50)
    ]
    results = send(client, *messages)

    assert len(results) == 50
    assert all(r["ok"] and r["status"] == "sent" for r in results), [
        r for r in results if r["status"] != "sent"
    ]
    emails = {m["to"]: m for m in emails_sent(herald) if tag in m["to"]}
    sms = {m["to"]: m for m in sms_sent(herald) if m["to"] in numbers.values()}
    assert len(emails) == 50 and len(sms) == 50
    for i, result in enumerate(results):
        mail = emails[f"user{i}.{tag}@example.com"]
        assert mail["subject"] == f"Hello Name{i}"
        assert f"your code is C{i:03d}" in mail["html"]
        assert sms[numbers[i]]["text"] == f"Name{i}, your code is C{i:03d}"
        channels = result["channels"]
        assert channels["email"]["providerMessageId"] == mail["id"]
        assert channels["sms"]["providerMessageId"] == sms[numbers[i]]["id"]
        assert channels["widget"] == {"status": "sent"}


def test_results_come_in_request_order_with_per_item_errors(herald, client):
    upsert_notification(client)
    tag = token()
    results = send(
        client,
        {"notificationId": "welcome", "userId": f"{tag}-a", "id": f"{tag}-1"},
        {"notificationId": "missing", "userId": f"{tag}-b", "id": f"{tag}-2"},
        {"userId": f"{tag}-c", "id": f"{tag}-3"},
        {"notificationId": "welcome", "userId": f"{tag}-d", "userEmail": "nope", "id": f"{tag}-4"},
        {"notificationId": "welcome", "userId": f"{tag}-e", "id": f"{tag}-5"},
    )
    assert [r["id"] for r in results] == [f"{tag}-{i}" for i in range(1, 6)]
    assert [r.get("error") for r in results] == [
        None,
        "notificationId/notFound",
        "notificationId/required",
        "userEmail/invalid",
        None,
    ]
    assert results[0]["ok"] and results[4]["ok"]
    assert client.get("/messages.get", id=f"{tag}-2").status_code == 404


def test_unverified_sender_gives_email_error_and_sms_still_goes(herald, client):
    if herald.settings.email_provider != "ses":
        pytest.skip("sender verification is SES's: the embedded outbox accepts any sender")
    upsert_notification(
        client,
        templates={
            "en": {
                **NOTIFICATION["templates"]["en"],
                "email": {
                    **NOTIFICATION["templates"]["en"]["email"],
                    "from": "nobody@unverified.example.org",
                },
            }
        },
    )
    number = phone()
    [result] = send(
        client,
        {
            "notificationId": "welcome",
            "userId": f"u-{token()}",
            "userEmail": "x@example.com",
            "userTelephone": number,
            "data": {"code": "1"},
        },
    )
    assert result["ok"] is True
    assert result["emailError"].startswith("MessageRejected: ")
    assert result["channels"]["email"]["status"] == "failed"
    assert result["channels"]["sms"]["status"] == "sent"
    assert [m["to"] for m in sms_sent(herald)].count(number) == 1


def test_reused_id_answers_id_exists_in_one_batch_and_across_batches(herald, client):
    upsert_notification(client)
    message_id = f"m-{token()}"
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "id": message_id}
    first, second = send(client, item, item)
    assert first["ok"] and first["status"] == "sent"
    assert second["ok"] is False and second["error"] == "id/exists"
    [third] = send(client, item)
    assert third["error"] == "id/exists"
    listed = client.get("/messages.list", userId=item["userId"]).get_json()["messages"]
    assert [m["id"] for m in listed] == [message_id]


def test_ten_concurrent_requests_with_one_id_make_one_message(herald, client):
    upsert_notification(client)
    user = f"u-{token()}"
    item = {
        "notificationId": "welcome",
        "userId": user,
        "id": f"m-{token()}",
        "userTelephone": phone(),
        "data": {"code": "7"},
    }
    results: list[dict] = []
    barrier = threading.Barrier(10)

    def attempt() -> None:
        barrier.wait()
        results.extend(send(client, item))

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10
    assert sum(1 for r in results if r["ok"]) == 1
    assert sum(1 for r in results if r.get("error") == "id/exists") == 9
    assert len(client.get("/messages.list", userId=user).get_json()["messages"]) == 1
    assert [m["to"] for m in sms_sent(herald)].count(item["userTelephone"]) == 1


def test_language_falls_back_from_region_to_base_to_default(herald, client):
    templates = {
        "en": {"widget": {"content": "english"}},
        "pt": {"widget": {"content": "português"}},
        "pt-BR": {"widget": {"content": "brasileiro"}},
        "fr": {"widget": {"content": "français"}},
    }
    upsert_notification(client, withEmail=False, withSMS=False, templates=templates)
    tag = token()
    cases = {"pt-BR": "brasileiro", "pt-PT": "português", "de": "english", "fr-CA": "français"}
    for language, expected in cases.items():
        [result] = send(
            client,
            {
                "notificationId": "welcome",
                "userId": f"{tag}-{language}",
                "userLanguage": language,
                "id": f"{tag}-{language}",
            },
        )
        message = client.get("/messages.get", id=result["id"]).get_json()["message"]
        assert message["widget"]["content"] == expected, language


def test_data_overrides_profile_fields_in_templates(herald, client):
    upsert_notification(client)
    address = f"data-{token()}@example.com"
    [result] = send(
        client,
        {
            "notificationId": "welcome",
            "userId": f"u-{token()}",
            "userEmail": address,
            "userFirstName": "Profile",
            "data": {"firstName": "FromData", "code": "9"},
        },
    )
    assert result["ok"]
    [mail] = [m for m in emails_sent(herald) if m["to"] == address]
    assert mail["subject"] == "Hello FromData"


def test_missing_email_and_telephone_are_skipped_with_reasons(herald, client):
    upsert_notification(client)
    [result] = send(
        client, {"notificationId": "welcome", "userId": f"u-{token()}", "data": {"code": "1"}}
    )
    assert result["ok"] and result["status"] == "sent"
    assert result["channels"]["email"] == {"status": "skipped", "reason": "userEmail/missing"}
    assert result["channels"]["sms"] == {"status": "skipped", "reason": "userTelephone/missing"}
    assert result["channels"]["widget"]["status"] == "sent"


def test_template_failing_with_this_data_answers_render_failed(herald, client):
    upsert_notification(
        client,
        withSMS=False,
        withWidget=False,
        templates={
            "en": {
                "email": {"subject": "Order {{ order.number }}", "text": "Total {{ order.total }}"}
            }
        },
    )
    address = f"fail-{token()}@example.com"
    [result] = send(
        client, {"notificationId": "welcome", "userId": f"u-{token()}", "userEmail": address}
    )
    assert result["ok"] is False
    assert result["error"] == "template/renderFailed"
    assert "en.email." in result["message"] and "order" in result["message"]
    assert not [m for m in emails_sent(herald) if m["to"] == address]
    message = client.get("/messages.get", id=result["id"]).get_json()["message"]
    assert message["status"] == "failed" and message["error"] == "template/renderFailed"


def test_html_in_data_is_escaped_in_the_email_html(herald, client):
    upsert_notification(client)
    address = f"xss-{token()}@example.com"
    send(
        client,
        {
            "notificationId": "welcome",
            "userId": f"u-{token()}",
            "userEmail": address,
            "data": {"firstName": "<script>alert(1)</script>", "code": "1"},
        },
    )
    [mail] = [m for m in emails_sent(herald) if m["to"] == address]
    assert "<script>" not in mail["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail["html"]


def test_a_newline_in_a_subject_never_reaches_a_header(herald, client):
    upsert_notification(client)
    address = f"crlf-{token()}@example.com"
    send(
        client,
        {
            "notificationId": "welcome",
            "userId": f"u-{token()}",
            "userEmail": address,
            "data": {"firstName": "Ann\r\nBcc: victim@example.com", "code": "1"},
        },
    )
    [mail] = [m for m in emails_sent(herald) if m["to"] == address]
    assert "\n" not in mail["subject"] and "\r" not in mail["subject"]
    assert mail["subject"] == "Hello Ann Bcc: victim@example.com"
    if "raw" in mail:
        headers = mail["raw"].split(b"\n\n", 1)[0]
        assert not any(line.lower().startswith(b"bcc:") for line in headers.splitlines())


def test_send_creates_unknown_user_with_profile_fields(herald, client):
    upsert_notification(client)
    user = f"u-{token()}"
    number = phone()
    send(
        client,
        {
            "notificationId": "welcome",
            "userId": user,
            "userEmail": "new@example.com",
            "userTelephone": number,
            "userFirstName": "Neo",
            "userLanguage": "pt-br",
            "userTimezone": "America/Sao_Paulo",
            "userCountry": "br",
            "data": {"code": "1"},
        },
    )
    profile = client.get("/users.get", id=user).get_json()["user"]
    assert profile["email"] == "new@example.com"
    assert profile["telephone"] == number
    assert profile["firstName"] == "Neo"
    assert profile["language"] == "pt-BR"
    assert profile["timezone"] == "America/Sao_Paulo"
    assert profile["country"] == "BR"


def test_send_never_overwrites_an_existing_users_email(herald, client):
    upsert_notification(client)
    user = f"u-{token()}"
    kept = f"kept-{token()}@example.com"
    client.post("/users.upsert", {"users": [{"id": user, "email": kept}]})
    send(
        client,
        {
            "notificationId": "welcome",
            "userId": user,
            "userEmail": f"other-{token()}@example.com",
            "userFirstName": "Filled",
            "data": {"code": "1"},
        },
    )
    profile = client.get("/users.get", id=user).get_json()["user"]
    assert profile["email"] == kept
    assert profile["firstName"] == "Filled"
    assert [m for m in emails_sent(herald) if m["to"] == kept]


def test_muted_channel_is_not_sent(herald, client):
    upsert_notification(client, allowMuteSMS=True)
    user, number = f"u-{token()}", phone()
    client.post(
        "/users.upsert",
        {
            "users": [
                {"id": user, "telephone": number, "preferences": {"welcome": {"muteSMS": True}}}
            ]
        },
    )
    [result] = send(client, {"notificationId": "welcome", "userId": user, "data": {"code": "1"}})
    assert result["channels"]["sms"]["status"] == "muted"
    assert number not in [m["to"] for m in sms_sent(herald)]


def test_twenty_concurrent_sends_with_one_increment_id_stack_to_twenty(herald, client):
    upsert_notification(client, withEmail=False, withSMS=False)
    user = f"u-{token()}"
    results: list[dict] = []
    barrier = threading.Barrier(20)

    def attempt(i: int) -> None:
        barrier.wait()
        results.extend(
            send(
                client,
                {
                    "notificationId": "welcome",
                    "userId": user,
                    "incrementId": "likes",
                    "data": {f"k{i}": i},
                },
            )
        )

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r["ok"] for r in results)
    assert sorted(r["status"] for r in results) == ["incremented"] * 19 + ["sent"]
    assert sorted(r["increment"] for r in results if r["status"] == "incremented") == list(
        range(2, 21)
    )
    [message] = client.get("/messages.list", userId=user).get_json()["messages"]
    assert message["increment"] == 20
    assert message["data"] == {f"k{i}": i for i in range(20)}
    # The widget is rendered again for the last increment (by its refresh job)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = client.get("/messages.get", id=message["id"]).get_json()["message"]
        if message["widget"]["content"].endswith("#20"):
            break
        time.sleep(0.05)
    assert message["widget"]["content"] == "Welcome <b></b> #20"
    assert message["status"] == "sent"


def test_send_at_in_the_future_is_scheduled_then_released_by_the_sweeper(herald, client):
    from datetime import UTC, datetime, timedelta

    from shared.sweeper import sweep

    upsert_notification(client, withEmail=False, withSMS=False)
    when = datetime.now(UTC) + timedelta(seconds=1)
    [result] = send(
        client, {"notificationId": "welcome", "userId": f"u-{token()}", "sendAt": when.isoformat()}
    )
    assert result["status"] == "scheduled"
    time.sleep(1.2)
    assert sweep(herald.engine, herald.broker, herald.settings)["released"] >= 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = client.get("/messages.get", id=result["id"]).get_json()["message"]
        if message["status"] == "sent":
            break
        time.sleep(0.05)
    assert message["status"] == "sent"
    assert message["channels"]["widget"]["status"] == "sent"


def test_bad_send_at_is_refused(herald, client):
    upsert_notification(client)
    [result] = send(client, {"notificationId": "welcome", "userId": "u", "sendAt": "tomorrow"})
    assert result["error"] == "sendAt/invalid"


def test_batch_limits(client):
    item = {"notificationId": "welcome", "userId": "u"}
    response = client.post("/messages.send", {"messages": [item] * 51})
    assert response.status_code == 400 and response.get_json()["error"] == "batch/tooLarge"
    response = client.post("/messages.send", {"messages": []})
    assert response.status_code == 400 and response.get_json()["error"] == "batch/empty"
