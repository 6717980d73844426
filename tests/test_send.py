"""messages.send end to end: delivery by e-mail, SMS and widget with per-message results,
ids, stacking, scheduling and batch limits."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.calls import send, until_final, upsert_notification
from tests.support.data import notification, phone, token
from tests.support.herald import allow_sender
from tests.support.received import emails_sent, sms_sent


def test_batch_of_fifty_sends_fifty_emails_and_fifty_sms(herald, client):
    upsert_notification(client, notification())
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
    upsert_notification(client, notification())
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
    if herald.settings.email_providers[0].kind != "ses":
        pytest.skip("sender verification is SES's: the embedded outbox accepts any sender")
    english = notification()["templates"]["en"]
    unverified = {**english["email"], "from": "nobody@unverified.example.org"}
    allow_sender(herald, client, "unverified.example.org")  # allowed here, unknown to SES
    upsert_notification(client, notification(templates={"en": {**english, "email": unverified}}))
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
    upsert_notification(client, notification())
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
    upsert_notification(client, notification())
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


def test_twenty_concurrent_sends_with_one_increment_id_stack_to_twenty(herald, client):
    upsert_notification(client, notification(withEmail=False, withSMS=False))
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
    message = until_final(
        client, message["id"], lambda m: (m["widget"]["content"] or "").endswith("#20")
    )
    assert message["widget"]["content"] == "Welcome <b></b> #20"
    assert message["status"] == "sent"


def test_send_at_in_the_future_is_scheduled_then_released_by_the_sweeper(herald, client):
    from datetime import UTC, datetime, timedelta

    from shared.messages.sweeper import sweep

    upsert_notification(client, notification(withEmail=False, withSMS=False))
    when = datetime.now(UTC) + timedelta(seconds=1)
    [result] = send(
        client, {"notificationId": "welcome", "userId": f"u-{token()}", "sendAt": when.isoformat()}
    )
    assert result["status"] == "scheduled"
    time.sleep(1.2)
    # This pass releases it, unless the embedded process's own periodic sweeper did first.
    sweep(herald.engine, herald.broker, herald.settings)
    message = until_final(client, result["id"])
    assert message["status"] == "sent"
    assert message["channels"]["widget"]["status"] == "sent"


def test_bad_send_at_is_refused(herald, client):
    upsert_notification(client, notification())
    [result] = send(client, {"notificationId": "welcome", "userId": "u", "sendAt": "tomorrow"})
    assert result["error"] == "sendAt/invalid"


def test_batch_limits(client):
    item = {"notificationId": "welcome", "userId": "u"}
    response = client.post("/messages.send", {"messages": [item] * 51})
    assert response.status_code == 400 and response.get_json()["error"] == "batch/tooLarge"
    response = client.post("/messages.send", {"messages": []})
    assert response.status_code == 400 and response.get_json()["error"] == "batch/empty"
