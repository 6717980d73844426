"""Retrying a failed channel (SPEC §11, `POST /messages.retry`), both modes: the SMS goes once
more through a Twilio stand-in, a second retry is refused, an unknown one needs the
confirmation, a push is retried on the devices that failed, and the retried channel's outcome
writes its webhook event as any other."""

from __future__ import annotations

import time

from shared.infra.db import transaction
from shared.webhooks import upsert_webhook
from shared.webhooks.endpoints import new_secret
from tests.support.calls import Client, answer, until_final
from tests.support.herald import new_project
from tests.support.retrying import (  # noqa: F401 (pytest finds the fixtures by name)
    herald_fixture,
    retry,
    service_fixture,
    sms_sent,
    texted,
    texting_client,
    twilio_fixture,
)
from tests.support.webhook_receiver import Receiver
from tests.test_push_delivery import browsers, deliver


def test_a_failed_sms_is_sent_once_more_and_a_second_retry_is_refused(herald, twilio):
    client, _ = texting_client(herald, twilio)
    message = texted(client, twilio, "21211")
    assert message["channels"]["sms"]["status"] == "failed", message
    twilio.fault, before = None, len(twilio.requests)
    retried = retry(client, message["id"], "sms")["message"]
    assert retried["status"] == "queued" and retried["channels"]["sms"]["status"] == "pending"
    assert retried["channels"]["widget"]["status"] == "sent"
    second = retry(client, message["id"], "sms", 409)
    assert second["error"] == "retry/notRetryable"
    done = sms_sent(client, message["id"])
    time.sleep(0.3)  # nothing else goes
    assert len(twilio.requests) == before + 1
    assert done["status"] == "sent" and done["channels"]["sms"]["provider"] == "twilio"
    outcomes = [a["outcome"] for a in done["channels"]["sms"]["attempts"]]
    assert outcomes == ["failed", "sent"]  # the first attempt kept, the retry's after it
    assert retry(client, message["id"], "sms", 409)["error"] == "retry/notRetryable"


def test_an_unknown_sms_is_retried_only_when_confirmed(herald, twilio):
    client, _ = texting_client(herald, twilio)
    message = texted(client, twilio, "500")
    assert message["channels"]["sms"]["status"] == "unknown", message
    refused = retry(client, message["id"], "sms", 409)
    assert refused["error"] == "retry/mayDuplicate" and "twice" in refused["message"]
    twilio.fault = None
    retried = retry(client, message["id"], "sms", confirmUnknown=True)["message"]
    assert retried["channels"]["sms"]["status"] == "pending"
    assert sms_sent(client, message["id"])["channels"]["sms"]["status"] == "sent"


def test_what_cannot_be_retried_is_refused(herald, twilio):
    client, _ = texting_client(herald, twilio)
    message = texted(client, twilio, None)
    assert message["channels"]["sms"]["status"] == "sent", message
    assert retry(client, message["id"], "sms", 409)["error"] == "retry/notRetryable"
    assert retry(client, message["id"], "widget", 409)["error"] == "retry/notRetryable"
    assert retry(client, message["id"], "email", 409)["error"] == "channel/invalid"
    assert retry(client, message["id"], "fax", 400)["error"] == "channel/invalid"
    assert retry(client, "no-such-id", "sms", 404)["error"] == "message/notFound"
    body = {"id": message["id"], "channel": "sms", "confirmUnknown": "yes"}
    assert answer(client.post("/messages.retry", body), 400)["error"] == "confirmUnknown/invalid"
    assert answer(client.post("/messages.retry", {"id": message["id"]}), 400)["error"] == (
        "channel/required"
    )


def test_another_projects_message_is_not_found(herald, twilio):
    client, _ = texting_client(herald, twilio)
    message = texted(client, twilio, "21211")
    other, _ = texting_client(herald, twilio)
    assert retry(other, message["id"], "sms", 404)["error"] == "message/notFound"
    assert until_final(client, message["id"])["channels"]["sms"]["status"] == "failed"


def test_a_failed_push_is_retried_on_its_devices(herald, service):
    client = Client(herald.app, new_project(herald, "push")["apiKey"])
    user_id, made = browsers(client, service, "first", "second")
    for endpoint in made:
        service.answers[endpoint] = 400
    message = deliver(client, user_id)
    push = message["channels"]["push"]
    assert push["status"] == "failed" and [d["status"] for d in push["devices"]] == ["failed"] * 2
    for endpoint in made:
        service.answers[endpoint] = 201
    retried = retry(client, message["id"], "push")["message"]
    assert [d["status"] for d in retried["channels"]["push"]["devices"]] == ["pending"] * 2
    done = until_final(client, message["id"], lambda m: m["channels"]["push"]["status"] == "sent")
    assert [d["status"] for d in done["channels"]["push"]["devices"]] == ["sent", "sent"]
    for endpoint in made:  # each device pushed once more, not twice
        assert len([r for r in service.received if r.endpoint == endpoint]) == 2
    assert retry(client, message["id"], "push", 409)["error"] == "retry/notRetryable"


def test_the_retried_channels_outcome_is_a_webhook_event(herald, twilio, tmp_path):
    client, project_id = texting_client(herald, twilio)
    receiver = Receiver(new_secret(), tmp_path)
    try:
        with transaction(herald.engine) as connection:
            made = upsert_webhook(connection, herald.settings, project_id, {"url": receiver.url})
        receiver.stop()
        receiver.secret = made["webhook"]["secret"]
        receiver.start()
        message = texted(client, twilio, "21211")
        twilio.fault = None
        retry(client, message["id"], "sms")
        sms_sent(client, message["id"])
        got = receiver.wait_for(3)
    finally:
        receiver.stop()
    sms = [e["type"] for e in got if e["data"]["channel"] == "sms"]
    assert sorted(sms) == ["message.failed", "message.sent"], got
    assert all(e["verified"] and e["data"]["messageId"] == message["id"] for e in got)
