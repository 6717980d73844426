"""Delivery against a provider stand-in that can be slow, throttle and fail: parallelism,
retries within a budget, refusals and timeouts, results late past the wait, and the SES
request as sent."""

from __future__ import annotations

import base64
import email
import email.policy
import time
from dataclasses import replace

from bench.standin import Fault
from tests.support.calls import send, until_final
from tests.support.data import phone, token
from tests.support.herald import allow_sender, swapped
from tests.support.servers import one_message, received

# Sends the stand-in must see in flight at once in a batch of 50 (a worker's pool has 32).
PARALLEL_SENDS = 10


def test_fifty_messages_are_delivered_in_parallel(slow_herald, slow_client, standin):
    standin.latency = 0.5
    standin.most_in_flight = 0
    tag = token()
    batch = [
        {
            "notificationId": "alert",
            "userId": f"{tag}-{i}",
            "userEmail": f"p{i}.{tag}@example.com",
            "userTelephone": phone(),
            "data": {"n": i},
        }
        for i in range(50)
    ]
    started = time.perf_counter()
    response = slow_client.post("/messages.send", {"messages": batch})
    elapsed = time.perf_counter() - started
    results = response.get_json()["results"]
    print(
        f"\n{slow_herald.mode}: 50 messages (e-mail + SMS each) with 500 ms provider latency "
        f"answered in {elapsed * 1000:.0f} ms, {standin.most_in_flight} sends in flight at once"
    )
    # Every message final, none refused. A send the saturated stand-in answers after the 1 s
    # read timeout is `unknown` (it may have gone): that is the stand-in's speed, not Herald's.
    assert all(r["status"] == "sent" for r in results)
    outcomes = [r["channels"][c]["status"] for r in results for c in ("email", "sms")]
    assert set(outcomes) <= {"sent", "unknown"} and outcomes.count("sent") >= 50
    # The provider held many sends unanswered at the same time: sequential delivery never has
    # more than one in flight, whatever the machine's speed.
    assert standin.most_in_flight >= PARALLEL_SENDS


def test_throttling_is_retried_and_the_message_goes_once(slow_client, standin):
    standin.inject("ses", Fault(400, "TooManyRequestsException", "Maximum sending rate"))
    standin.inject(
        "sns", Fault(400, "Throttled", "Rate exceeded"), Fault(500, "InternalError", "try again")
    )
    address, number = f"t-{token()}@example.com", phone()
    result = one_message(slow_client, address, number)
    assert result["channels"]["email"]["status"] == "sent"
    assert result["channels"]["sms"]["status"] == "sent"
    assert received(standin, address, number) == (1, 1)


def test_an_outage_longer_than_the_budget_fails_with_the_providers_error(slow_client, standin):
    standin.inject("sns", *[Fault(503, "ServiceUnavailable", "down")] * 200)
    address, number = f"o-{token()}@example.com", phone()
    started = time.perf_counter()
    result = one_message(slow_client, address, number)
    assert time.perf_counter() - started < 10
    assert result["ok"] is True
    assert result["smsError"] == "ServiceUnavailable: down"
    assert result["channels"]["sms"]["status"] == "failed"
    assert result["channels"]["email"]["status"] == "sent"
    standin.faults["sns"].clear()


def test_a_refusal_is_not_retried(slow_client, standin):
    standin.inject("ses", Fault(400, "MessageRejected", "Email address is not verified"))
    address, number = f"r-{token()}@example.com", phone()
    result = one_message(slow_client, address, number)
    assert result["emailError"] == "MessageRejected: Email address is not verified"
    assert received(standin, address, number) == (0, 1)
    assert not standin.faults["ses"]


def test_a_send_without_answer_is_unknown_and_never_retried(slow_client, standin):
    standin.latency = 1.5  # over the 1 s read timeout: the provider may have sent it
    address, number = f"u-{token()}@example.com", phone()
    result = one_message(slow_client, address, number)
    assert result["channels"]["email"]["status"] == "unknown"
    assert result["channels"]["sms"]["status"] == "unknown"
    assert result["emailError"].startswith("Timeout")
    # The stand-in records each request once its latency has passed: wait for both, once each.
    deadline = time.monotonic() + 5
    while received(standin, address, number) != (1, 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert received(standin, address, number) == (1, 1)


def test_results_late_past_the_wait_answer_queued_then_settle(slow_herald, slow_client, standin):
    standin.latency = 0.8
    address, number = f"q-{token()}@example.com", phone()
    with swapped(slow_herald, settings=replace(slow_herald.settings, send_wait=0.2)):
        result = one_message(slow_client, address, number)
    assert result["ok"] is True and result["status"] == "queued"
    assert {c["status"] for c in result["channels"].values()} <= {"pending", "sending"}
    message = until_final(slow_client, result["id"])
    assert message["channels"]["email"]["status"] == "sent"
    assert received(standin, address, number) == (1, 1)


def test_the_ses_request_carries_both_parts_from_name_and_reply_to(
    slow_herald, slow_client, standin
):
    allow_sender(slow_herald, slow_client, "billing@example.com")
    slow_client.post(
        "/notifications.upsert",
        {
            "id": "full",
            "name": "Full",
            "withEmail": True,
            "templates": {
                "en": {
                    "email": {
                        "subject": "S {{ n }}",
                        "html": "<p>H {{ n }}</p>",
                        "text": "T {{ n }}",
                        "from": "billing@example.com",
                        "fromName": "Billing Team",
                        "replyTo": "help@example.com",
                    }
                }
            },
        },
    )
    address = f"full-{token()}@example.com"
    item = {"notificationId": "full", "userId": f"u-{token()}", "userEmail": address}
    [result] = send(slow_client, {**item, "data": {"n": 7}})
    assert result["channels"]["email"]["status"] == "sent"
    [sent] = [m for m in standin.emails if m["Destination"]["ToAddresses"] == [address]]
    assert sent["FromEmailAddress"] == "Billing Team <billing@example.com>"
    mail = email.message_from_bytes(
        base64.b64decode(sent["Content"]["Raw"]["Data"]), policy=email.policy.default
    )
    assert mail["Reply-To"] == "help@example.com"
    assert mail["Subject"] == "S 7"
    assert mail.get_body(("html",)).get_content() == "<p>H 7</p>\n"
    assert mail.get_body(("plain",)).get_content() == "T 7\n"
