"""Delivery against a provider stand-in that can be slow, throttle and fail: parallelism,
retries within a budget, and at most one send per channel."""

from __future__ import annotations

import base64
import email
import email.policy
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bench.standin import Fault, StandIn
from shared.infra.db import transaction
from shared.infra.models import messages, utcnow
from tests.conftest import (
    Client,
    allow_sender,
    new_project,
    phone,
    send,
    swapped,
    token,
    until_final,
    upsert_notification,
)
from tests.processes import CountingStandIn
from tests.servers import standin_herald
from worker.delivery import DeliveryServices, deliver_message
from worker.providers import build_providers

NOTIFICATION = {
    "id": "alert",
    "name": "Alert",
    "withEmail": True,
    "withSMS": True,
    "templates": {
        "en": {
            "email": {"subject": "Alert {{ n }}", "text": "Alert {{ n }}"},
            "sms": {"text": "Alert {{ n }}"},
        }
    },
}


# Sends the stand-in must see in flight at once in a batch of 50 (a worker's pool has 32).
PARALLEL_SENDS = 10


@pytest.fixture(scope="module")
def standin():
    with CountingStandIn() as server:
        yield server


@pytest.fixture(scope="module", params=["embedded", "production"])
def slow_herald(request, standin, tmp_path_factory):
    """A Herald whose SES and SNS are the stand-in, with short provider timeouts."""
    yield from standin_herald(
        request,
        tmp_path_factory,
        standin,
        send_wait=30.0,
        provider_timeout=1.0,
        provider_retry_budget=1.5,
    )


@pytest.fixture
def slow_client(slow_herald, standin):
    standin.latency = 0.0
    standin.faults["ses"].clear()
    standin.faults["sns"].clear()
    client = Client(slow_herald.app, new_project(slow_herald, "t")["apiKey"])
    upsert_notification(client, NOTIFICATION)
    return client


def one_message(client, address: str, number: str, **extra) -> dict:
    """Send the alert to this address and number; its result."""
    item = {"notificationId": "alert", "userId": f"u-{token()}", "data": {"n": 1}, **extra}
    [result] = send(client, {**item, "userEmail": address, "userTelephone": number})
    return result


def received(standin: StandIn, address: str, number: str) -> tuple[int, int]:
    emails = sum(1 for m in standin.emails if m["Destination"]["ToAddresses"] == [address])
    sms = sum(1 for m in standin.sms if m["PhoneNumber"] == number)
    return emails, sms


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


def _services(herald) -> DeliveryServices:
    return DeliveryServices(herald.settings, herald.engine, build_providers(herald.settings))


def _pk(herald, message_id: str) -> int:
    with herald.engine.connect() as connection:
        return connection.execute(
            select(messages.c.pk).where(messages.c.id == message_id)
        ).scalar_one()


def parked(herald, client, address: str, number: str, **state) -> int:
    """A message accepted but not delivered (scheduled an hour ahead), then put in `state` as
    if a worker had left it so; its pk."""
    message_id = f"m-{token()}"
    one_message(
        client, address, number, id=message_id, sendAt=(utcnow() + timedelta(hours=1)).isoformat()
    )
    with transaction(herald.engine) as connection:
        return connection.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status="queued", scheduled_at=None, **state)
            .returning(messages.c.pk)
        ).scalar_one()


def redelivered(herald, client, address: str, number: str, **state) -> dict:
    """The outcome of the job of a message parked in `state`, delivered again."""
    return deliver_message(_services(herald), parked(herald, client, address, number, **state))


def test_a_redelivered_job_never_sends_again(slow_herald, slow_client, standin):
    address, number = f"d-{token()}@example.com", phone()
    result = one_message(slow_client, address, number)
    assert result["status"] == "sent"
    # When the broker delivers the same job again
    again = deliver_message(_services(slow_herald), _pk(slow_herald, result["id"]))
    # Then nothing is sent twice and the answer is the same outcome
    assert again["channels"] == result["channels"]
    assert received(standin, address, number) == (1, 1)


def test_a_stale_sending_channel_becomes_unknown_not_resent(slow_herald, slow_client, standin):
    address, number = f"s-{token()}@example.com", phone()
    # Given a worker that claimed the e-mail and died during the provider call
    state = {"email_status": "sending", "sending_since": utcnow() - timedelta(minutes=5)}
    # When the job is delivered again
    outcome = redelivered(slow_herald, slow_client, address, number, **state)
    # Then the e-mail is recorded as unknown and not sent again; the SMS goes once
    assert outcome["channels"]["email"]["status"] == "unknown"
    assert outcome["channels"]["sms"]["status"] == "sent"
    assert outcome["status"] == "sent"
    assert received(standin, address, number) == (0, 1)


def test_a_fresh_sending_channel_is_left_to_its_worker(slow_herald, slow_client, standin):
    address, number = f"f-{token()}@example.com", phone()
    state = {"email_status": "sending", "sms_status": "sending", "sending_since": utcnow()}
    outcome = redelivered(slow_herald, slow_client, address, number, **state)
    assert outcome["status"] == "queued"
    assert outcome["channels"]["email"]["status"] == "sending"
    assert received(standin, address, number) == (0, 0)


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


def test_a_message_whose_job_was_lost_is_delivered_by_the_sweeper(
    slow_herald, slow_client, standin
):
    from shared.messages.sweeper import sweep

    address, number = f"l-{token()}@example.com", phone()
    # Given a message persisted as queued whose job never reached the broker
    parked(slow_herald, slow_client, address, number, enqueued_at=utcnow() - timedelta(hours=1))
    # When the sweeper passes
    assert sweep(slow_herald.engine, slow_herald.broker, slow_herald.settings)["requeued"] >= 1
    # Then it is delivered, once
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and received(standin, address, number) != (1, 1):
        time.sleep(0.05)
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
