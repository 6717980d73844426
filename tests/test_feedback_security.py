"""Delivery feedback that can't be trusted changes nothing: an SNS message unsigned, forged or
replayed (SPEC §5)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import token
from tests.support.feedback import (
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


@pytest.mark.parametrize("forgery", ["bad signature", "certificate host", "old timestamp"])
def test_an_unverifiable_event_is_refused_and_changes_nothing(
    herald, sns, client, project, forgery
):
    address = f"target.{token()}@example.com"
    sent = send_email(client, address)
    before = email_of(client, sent["id"])
    event = ses_event("Bounce", before["providerMessageId"], address, "event")
    if forgery == "bad signature":
        message = sns.sign(sns.notification(event))
        message["Message"] = message["Message"].replace("General", "Suppressed")
    elif forgery == "certificate host":  # a certificate from a host that is not allowed
        message = sns.sign(
            sns.notification(event, SigningCertURL=sns.url(sns.cert_path, host="localhost"))
        )
    else:  # a genuine message, replayed two hours later
        message = sns.sign(sns.notification(event, age=timedelta(hours=2)))
    response = post(herald, message)
    assert response.status_code == 403
    assert response.get_json()["error"] == "signature/invalid"
    assert email_of(client, sent["id"]) == before
    assert suppressed(herald, project["projectId"]) == []


def test_a_message_signed_by_another_key_is_refused(herald, sns, client):
    sent = send_email(client, f"x.{token()}@example.com")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    event = ses_event("Delivery", sent["channels"]["email"]["providerMessageId"], "x@y.z", "event")
    response = post(herald, sns.sign(sns.notification(event), key=other))
    assert response.status_code == 403
    assert email_of(client, sent["id"])["status"] == "sent"


def test_a_subscribe_url_on_a_host_not_allowed_is_not_visited(herald, sns):
    visit = f"/confirm?Token={token()}"
    confirmation = sns.confirmation(visit, Token="t", SubscribeURL=sns.url(visit, host="localhost"))
    response = post(herald, sns.sign(confirmation))
    assert response.status_code == 403
    assert visit not in sns.visits


def test_a_body_that_is_not_an_sns_message_is_refused(herald):
    flask = herald.app.test_client()
    assert flask.post("/webhooks/ses", data="{not json").get_json()["error"] == "body/invalidJson"
    unsigned = flask.post("/webhooks/ses", data=json.dumps({"Type": "Notification"}))
    assert unsigned.status_code == 403
    assert flask.post("/webhooks/ses", data="[]").get_json()["error"] == "body/invalid"
