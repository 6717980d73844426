"""Delivery feedback: SES events signed as SNS signs them move the e-mail channel of their
message and suppress its recipient (SPEC §5). What is refused: test_feedback_security.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from api.cli import main
from tests.support.calls import Client, upsert_notification
from tests.support.data import token
from tests.support.feedback import (
    NOTIFICATION,
    email_of,
    post,
    send_email,
    ses_event,
    suppressed,
)
from tests.support.feedback_fixtures import (  # noqa: F401 (pytest finds them by name)
    client_fixture,
    herald_fixture,
    loopback_fixture,
    sns_fixture,
)
from tests.support.herald import new_project


@pytest.mark.parametrize(
    ("kind", "style", "version", "state", "suppresses"),
    [
        ("Delivery", "event", "1", "delivered", False),
        ("Bounce", "event", "2", "bounced", True),
        ("Complaint", "notification", "1", "complained", True),
        ("Reject", "event", "2", "rejected", False),
        ("Bounce", "notification", "2", "bounced", True),
    ],
)
def test_signed_event_moves_the_email_channel_once(
    herald, sns, client, project, kind, style, version, state, suppresses
):
    # Given an e-mail that went out
    address = f"Person.{token()}@example.com"
    sent = send_email(client, address)
    ses_id = sent["channels"]["email"]["providerMessageId"]
    # When SNS posts SES's event about it, signed
    event = sns.sign(sns.notification(ses_event(kind, ses_id, address, style)), version)
    response = post(herald, event)
    # Then the channel moved, and the address is suppressed where it should be
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"ok": True, "outcome": "applied"}
    after = email_of(client, sent["id"])
    assert after["status"] == state
    assert after["providerMessageId"] == ses_id
    assert suppressed(herald, project["projectId"]) == ([address.lower()] if suppresses else [])
    # And a redelivery changes nothing more
    again = post(herald, event)
    assert again.get_json() == {"ok": True, "outcome": "unchanged"}
    assert email_of(client, sent["id"]) == after
    # And the next e-mail to that address is skipped only if it was suppressed
    following = send_email(client, address.upper())["channels"]["email"]
    if suppresses:
        assert following == {"status": "skipped", "reason": "userEmail/suppressed"}
    else:
        assert following["status"] == "sent"


def test_a_transient_bounce_moves_the_channel_without_suppressing(herald, sns, client, project):
    address = f"full.{token()}@example.com"
    sent = send_email(client, address)
    ses_id = sent["channels"]["email"]["providerMessageId"]
    event = ses_event("Bounce", ses_id, address, "event", bounceType="Transient")
    event["bounce"]["bounceSubType"] = "MailboxFull"
    assert post(herald, sns.sign(sns.notification(event))).status_code == 200
    assert email_of(client, sent["id"]) == {
        "status": "bounced",
        "reason": "bounce/Transient: MailboxFull",
        "providerMessageId": ses_id,
    }
    assert suppressed(herald, project["projectId"]) == []


def test_a_delivery_after_a_complaint_does_not_move_the_channel_back(herald, sns, client):
    address = f"late.{token()}@example.com"
    sent = send_email(client, address)
    ses_id = sent["channels"]["email"]["providerMessageId"]
    for kind in ("Complaint", "Delivery"):
        post(herald, sns.sign(sns.notification(ses_event(kind, ses_id, address, "event"))))
    assert email_of(client, sent["id"])["status"] == "complained"


def test_an_event_for_an_unknown_message_is_acknowledged(herald, sns):
    event = ses_event("Delivery", f"ses-{token()}", "a@example.com", "event")
    response = post(herald, sns.sign(sns.notification(event)))
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "outcome": "unknownMessage"}
    metrics = herald.app.test_client().get("/metrics").get_data(as_text=True)
    assert 'herald_ses_feedback_total{event="Delivery",outcome="unknownMessage"}' in metrics


def test_subscription_confirmation_visits_the_subscribe_url(herald, sns):
    visit = f"/confirm?Token={token()}"
    response = post(herald, sns.sign(sns.confirmation(visit)))
    assert response.get_json() == {"ok": True, "outcome": "confirmed"}
    assert visit in sns.visits


def test_suppressions_are_listed_and_removed_from_the_command_line(
    herald, sns, client, project, monkeypatch
):
    # Given an address suppressed by a complaint
    address = f"angry.{token()}@example.com"
    sent = send_email(client, address)
    ses_id = sent["channels"]["email"]["providerMessageId"]
    post(herald, sns.sign(sns.notification(ses_event("Complaint", ses_id, address, "event"))))
    monkeypatch.setenv("DATABASE_URL", herald.settings.database_url)
    for name in ("REDIS_URL", "HERALD_EMAIL_PROVIDER", "HERALD_SMS_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    if herald.settings.redis_url:
        monkeypatch.setenv("REDIS_URL", herald.settings.redis_url)
    runner = CliRunner()
    # When the operator lists, then removes it
    listed = runner.invoke(main, ["suppressions", "list", project["projectId"]])
    assert listed.exit_code == 0, listed.output
    assert [row["address"] for row in json.loads(listed.output)] == [address.lower()]
    assert json.loads(listed.output)[0]["reason"] == "complained"
    removed = runner.invoke(main, ["suppressions", "remove", project["projectId"], address])
    assert removed.exit_code == 0, removed.output
    # Then e-mail goes to it again, and a second removal says there was nothing
    assert send_email(client, address)["channels"]["email"]["status"] == "sent"
    again = runner.invoke(main, ["suppressions", "remove", project["projectId"], address])
    assert again.exit_code != 0
    assert "not suppressed" in again.output


def test_suppression_belongs_to_one_project(herald, sns, client):
    address = f"shared.{token()}@example.com"
    sent = send_email(client, address)
    ses_id = sent["channels"]["email"]["providerMessageId"]
    post(herald, sns.sign(sns.notification(ses_event("Bounce", ses_id, address, "event"))))
    other_client = Client(herald.app, new_project(herald, "other")["apiKey"])
    upsert_notification(other_client, NOTIFICATION)
    assert send_email(other_client, address)["channels"]["email"]["status"] == "sent"
