"""The webhook outbox (SPEC §9): a message's channel reaching an outcome writes its event in
the same transaction (a trigger), for a project with an enabled endpoint only. Both modes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from shared.infra.db import transaction
from shared.webhooks import upsert_webhook, webhook_events
from tests.support.calls import Client, send, until_final, upsert_notification
from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald

NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withEmail": True,
    "withSMS": True,
    "withWidget": True,
    "templates": {
        "en": {
            "email": {"subject": "Hi", "text": "Hi {{ n }}"},
            "sms": {"text": "Hi {{ n }}"},
            "widget": {"content": "Hi {{ n }}"},
        }
    },
}


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    herald = build_herald(request.param, tmp_path_factory.mktemp("outbox"), request)
    yield herald
    stop_herald(herald)


def _events(herald, project_id: str) -> list:
    with herald.engine.connect() as connection:
        t = webhook_events
        query = select(t.c.id, t.c.type, t.c.data, t.c.created_at).where(
            t.c.project_id == project_id
        )
        return connection.execute(query.order_by(t.c.pk)).all()


def _project(herald, hooked: bool) -> tuple[str, Client]:
    project = new_project(herald, "hooks")
    if hooked:
        settings = replace(herald.settings, webhooks_allow_private=True)
        with transaction(herald.engine) as connection:
            fields = {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
            upsert_webhook(connection, settings, project["projectId"], fields)
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, NOTICE)
    return project["projectId"], client


def _send(client: Client, **profile) -> dict:
    item = {"notificationId": "notice", "userId": f"u-{token()}", "data": {"n": 1}, **profile}
    [result] = send(client, item)
    return until_final(client, result["id"])


def test_each_channel_outcome_writes_one_event(herald):
    project_id, client = _project(herald, hooked=True)
    message = _send(client, userEmail=f"{token()}@example.com")  # no telephone: SMS skipped
    events = _events(herald, project_id)
    by_channel = {event.data["channel"]: event for event in events}
    assert sorted(by_channel) == ["email", "sms", "widget"], events
    assert len(events) == 3
    email = by_channel["email"]
    assert email.type == "message.sent" and email.id.startswith("evt_") and len(email.id) == 28
    assert email.data["messageId"] == message["id"]
    assert email.data["providerMessageId"] == message["channels"]["email"]["providerMessageId"]
    assert email.data["provider"] == message["channels"]["email"]["provider"]
    assert email.data["notificationId"] == "notice" and email.data["increment"] == 1
    assert by_channel["sms"].type == "message.skipped"
    assert by_channel["sms"].data["error"] == "userTelephone/missing"
    assert by_channel["widget"].type == "message.sent"
    assert all(event.created_at.tzinfo is not None for event in events)


def test_a_project_without_an_endpoint_writes_none(herald):
    project_id, client = _project(herald, hooked=False)
    _send(client, userEmail=f"{token()}@example.com")
    assert _events(herald, project_id) == []
