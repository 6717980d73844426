"""One message's timeline (SPEC §11, `GET /messages.timeline`), both modes: accepted, each
provider attempt of each channel (a retried one's both), each device's push, and the webhook
deliveries of its events, oldest first; another project's message is not found."""

from __future__ import annotations

import time
from datetime import datetime

from shared.infra.db import transaction
from shared.webhooks import upsert_webhook
from shared.webhooks.endpoints import new_secret
from tests.support.calls import Client, answer
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


def timeline(client: Client, message_id: str, done=lambda entries: True) -> list[dict]:
    """The message's timeline once `done` holds for it (or as it is after 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        entries = answer(client.get("/messages.timeline", id=message_id))["timeline"]
        if done(entries) or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def delivered_hooks(count: int):
    return lambda entries: (
        len([e for e in entries if e["kind"] == "webhook" and e["status"] == "succeeded"]) >= count
    )


def in_order(entries: list[dict]) -> bool:
    times = [datetime.fromisoformat(entry["at"]) for entry in entries]
    return times == sorted(times)


def test_a_retried_sms_shows_both_attempts_and_every_webhook_delivery(herald, twilio, tmp_path):
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
        entries = timeline(client, message["id"], delivered_hooks(3))
    finally:
        receiver.stop()
    assert in_order(entries) and entries[0]["kind"] == "accepted"
    attempts = [
        (e["channel"], e["provider"], e["outcome"]) for e in entries if e["kind"] == "attempt"
    ]
    assert attempts == [("sms", "twilio", "failed"), ("sms", "twilio", "sent")]
    failed = next(e for e in entries if e["kind"] == "attempt")
    assert failed["error"].startswith("twilio/21211")
    hooks = [e for e in entries if e["kind"] == "webhook"]
    assert sorted((e["eventType"], e["channel"]) for e in hooks) == [
        ("message.failed", "sms"),
        ("message.sent", "sms"),
        ("message.sent", "widget"),
    ]
    webhook_id = made["webhook"]["id"]
    assert all(e["webhookId"] == webhook_id and e["statusCode"] == 204 for e in hooks)
    assert all(e["attempts"] == 1 and e["eventId"].startswith("evt_") for e in hooks)
    sms_hooks = [e["eventType"] for e in hooks if e["channel"] == "sms"]
    assert sms_hooks == ["message.failed", "message.sent"]  # in the order they happened


def test_a_push_shows_each_devices_attempt_and_outcome(herald, service):
    client = Client(herald.app, new_project(herald, "push")["apiKey"])
    user_id, made = browsers(client, service, "took", "refused")
    took, refused = made
    service.answers[refused] = 400
    message = deliver(client, user_id)
    entries = timeline(client, message["id"])
    assert in_order(entries) and entries[0]["kind"] == "accepted"
    devices = {e["to"][-8:]: e for e in entries if e["kind"] == "device"}
    assert devices[took[-8:]]["status"] == "sent" and devices[took[-8:]]["deviceKind"] == "webpush"
    assert devices[refused[-8:]]["status"] == "failed"
    attempts = [e for e in entries if e["kind"] == "attempt"]
    assert {e["deviceId"] for e in attempts} == {e["deviceId"] for e in devices.values()}
    assert sorted(e["outcome"] for e in attempts) == ["failed", "sent"]


def test_another_projects_message_has_no_timeline(herald, twilio):
    client, _ = texting_client(herald, twilio)
    message = texted(client, twilio, None)
    other, _ = texting_client(herald, twilio)
    response = other.get("/messages.timeline", id=message["id"])
    assert answer(response, 404)["error"] == "message/notFound"
    assert answer(client.get("/messages.timeline"), 400)["error"] == "id/required"
    kinds = [e["kind"] for e in timeline(client, message["id"])]
    assert kinds[:2] == ["accepted", "attempt"]
