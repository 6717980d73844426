"""Delivery feedback that can't be trusted changes nothing: a message of a topic Herald does
not listen to, unsigned or forged, or about an address its e-mail was not sent to; and no
certificate is fetched for a message that could never verify (SPEC §5)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.data import token
from tests.support.feedback import (
    OTHER_TOPIC,
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
from tests.support.herald import swapped


def fetched(sns, path: str) -> bool:
    """True when the stand-in was asked for this path, with or without a query."""
    return any(asked.split("?")[0] == path for asked in sns.requested)


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


def test_without_topic_arns_every_message_is_refused_saying_to_set_them(
    herald, sns, client, project
):
    # Given a Herald that lists no topic, and an e-mail it sent
    address = f"unset.{token()}@example.com"
    sent = send_email(client, address)
    before = email_of(client, sent["id"])
    certificate, visit = f"/cert-{token()}.pem", f"/confirm?Token={token()}"
    bounce = ses_event("Bounce", before["providerMessageId"], address, "event")
    signed = [
        sns.sign(sns.notification(bounce, SigningCertURL=sns.url(certificate))),
        sns.sign(sns.confirmation(visit, SigningCertURL=sns.url(certificate))),
    ]
    # When SNS posts a signed bounce and a signed subscription confirmation, and a stranger junk
    with swapped(herald, settings=replace(herald.settings, sns_topic_arns=())):
        answers = [post(herald, message) for message in signed]
        answers.append(herald.app.test_client().post("/webhooks/ses", data="{not json"))
    # Then each is a 403 whose sentence says to set the topics, and nothing was done
    for response in answers:
        assert response.status_code == 403
        assert set(response.get_json()) == {"error", "message"}
        assert response.get_json()["error"] == "sns/notConfigured"
        assert "set HERALD_SNS_TOPIC_ARNS" in response.get_json()["message"]
    assert email_of(client, sent["id"]) == before
    assert suppressed(herald, project["projectId"]) == []
    assert visit not in sns.visits and not fetched(sns, certificate)


def test_messages_of_a_topic_not_listed_are_refused_before_any_fetch(herald, sns, client, project):
    # Given an e-mail Herald sent, and someone's own topic, signed for by SNS
    address = f"listed.{token()}@example.com"
    sent = send_email(client, address)
    before = email_of(client, sent["id"])
    certificate, visit = f"/cert-{token()}.pem", f"/confirm?Token={token()}"
    fields = {"TopicArn": OTHER_TOPIC, "SigningCertURL": sns.url(certificate)}
    bounce = ses_event("Bounce", before["providerMessageId"], address, "event")
    # When that topic's bounce and subscription confirmation are posted
    answers = [
        post(herald, sns.sign(sns.notification(bounce, **fields))),
        post(herald, sns.sign(sns.confirmation(visit, **fields))),
    ]
    # Then both are refused for their topic, with nothing fetched, visited or changed
    for response in answers:
        assert response.status_code == 403
        assert response.get_json()["error"] == "sns/topicNotAllowed"
    assert email_of(client, sent["id"]) == before
    assert suppressed(herald, project["projectId"]) == []
    assert visit not in sns.visits and not fetched(sns, certificate)


@pytest.mark.parametrize(
    "flaw",
    ["not a .pem", "a query", "a fragment", "a folder", "a redirect", "no signature", "no base64"],
)
def test_a_certificate_is_not_fetched_for_a_message_that_could_never_verify(herald, sns, flaw):
    # Given a signed message whose certificate URL or signature is not of SNS's form, or
    # whose URL redirects to the certificate
    path = f"/cert-{token()}.pem"
    urls = {
        "not a .pem": sns.url(path.replace(".pem", ".txt")),
        "a query": sns.url(path + "?Action=Get"),
        "a fragment": sns.url(path + "#key"),
        "a folder": sns.url("/keys" + path),
        "a redirect": sns.url(path.replace("/", "/moved-", 1)),
    }
    event = ses_event("Delivery", f"ses-{token()}", "a@example.com", "event")
    message = sns.sign(sns.notification(event, SigningCertURL=urls.get(flaw, sns.url(path))))
    if flaw == "no signature":
        del message["Signature"]
    elif flaw == "no base64":
        message["Signature"] = "not base64!"
    # When it is posted
    response = post(herald, message)
    # Then it is refused, and the certificate was never asked for
    assert response.status_code == 403
    assert response.get_json()["error"] == "signature/invalid"
    fetch = path.replace(".pem", ".txt") if flaw == "not a .pem" else path
    assert not fetched(sns, fetch) and not fetched(sns, "/keys" + path)


def test_the_certificates_kept_are_bounded(herald, sns):
    # Given a certificate fetched for one message, then a hundred others for other messages
    first = f"/cert-{token()}.pem"
    paths = [first] + [f"/cert-{token()}.pem" for _ in range(100)]
    # When a message signed with the first certificate comes again
    for path in [*paths, first]:
        event = ses_event("Delivery", f"ses-{token()}", "a@example.com", "event")
        message = sns.sign(sns.notification(event, SigningCertURL=sns.url(path)))
        assert post(herald, message).get_json() == {"ok": True, "outcome": "unknownMessage"}
    # Then it had been forgotten, and is fetched again
    assert sns.requested.count(first) == 2


@pytest.mark.parametrize("kind", ["Bounce", "Complaint"])
def test_an_event_naming_other_addresses_suppresses_only_the_recipient(
    herald, sns, client, project, kind
):
    # Given an e-mail sent to one address, and addresses of others
    address = f"Mixed.{token()}@Example.com"
    sent = send_email(client, address)
    others = [f"victim.{token()}@example.com", f"second.{token()}@example.org"]
    # When its bounce or complaint names the recipient (in other case) among the others
    named = [others[0], address.upper(), others[1]]
    event = ses_event(kind, sent["channels"]["email"]["providerMessageId"], named, "event")
    response = post(herald, sns.sign(sns.notification(event)))
    # Then only the recipient is suppressed, and e-mail to the others still goes out
    assert response.get_json() == {"ok": True, "outcome": "applied"}
    assert suppressed(herald, project["projectId"]) == [address.lower()]
    assert send_email(client, others[0])["channels"]["email"]["status"] == "sent"


@pytest.mark.parametrize(
    ("kind", "named"), [("Delivery", "another"), ("Bounce", "another"), ("Complaint", "nobody")]
)
def test_an_event_not_naming_the_recipient_changes_nothing(
    herald, sns, client, project, kind, named
):
    # Given an e-mail sent to one address
    sent = send_email(client, f"real.{token()}@example.com")
    before = email_of(client, sent["id"])
    # When an event about it names another address, or none
    addresses = [f"victim.{token()}@example.com"] if named == "another" else []
    event = ses_event(kind, before["providerMessageId"], addresses, "notification")
    response = post(herald, sns.sign(sns.notification(event)))
    # Then it is acknowledged, and neither the channel nor any suppression changed
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "outcome": "otherRecipient"}
    assert email_of(client, sent["id"]) == before
    assert suppressed(herald, project["projectId"]) == []
