"""Delivery feedback: SES events signed as SNS signs them move the e-mail channel and
suppress addresses; anything unverifiable is refused and changes nothing (SPEC §5)."""

from __future__ import annotations

import base64
import http.server
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from api.cli import main
from shared.infra.db import transaction
from shared.feedback.sns import canonical_string
from shared.contacts.suppressions import list_suppressions
from tests.conftest import (
    SENDER,
    Client,
    answer,
    new_project,
    running_herald,
    send,
    token,
    upsert_notification,
)

NOTIFICATION = {
    "id": "receipt",
    "name": "Receipt",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Receipt {{ n }}", "text": "Thanks {{ n }}"}}},
}
TOPIC = "arn:aws:sns:us-east-1:123456789012:herald-feedback"


@dataclass
class SnsStandIn:
    """SNS as seen from a subscriber: a key, its self-signed certificate served over HTTP on
    127.0.0.1, and the SubscribeURL visits it records."""

    key: rsa.RSAPrivateKey
    port: int
    visits: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def sign(self, message: dict, version: str = "2", key=None) -> dict:
        """The message with SignatureVersion, SigningCertURL and Signature as SNS adds them."""
        message = {"SignatureVersion": version, "SigningCertURL": self.url("/cert.pem"), **message}
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = (key or self.key).sign(canonical_string(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode()}

    def notification(self, event: dict, *, age: timedelta = timedelta(0), **fields) -> dict:
        """An unsigned SNS Notification carrying an SES event."""
        stamp = datetime.now(UTC) - age
        return {
            "Type": "Notification",
            "MessageId": secrets.token_hex(8),
            "TopicArn": TOPIC,
            "Message": json.dumps(event),
            "Timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            **fields,
        }


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    """A self-signed certificate of the key, as SNS publishes its own."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def sns():
    """The stand-in's HTTP server for the certificate and the SubscribeURL."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = _certificate(key)
    visits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pem if self.path == "/cert.pem" else b"<ConfirmSubscriptionResponse/>"
            if self.path.startswith("/confirm"):
                visits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SnsStandIn(key, server.server_address[1], visits)
    server.shutdown()


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald that takes SNS certificates from 127.0.0.1 over HTTP (the stand-in)."""
    hosts = ("127.0.0.1",)
    with running_herald(
        request, tmp_path_factory, sns_certificate_hosts=hosts, sns_allow_http=True
    ) as instance:
        yield instance


@pytest.fixture
def client(client):
    """The project's client, with the receipt notification upserted."""
    upsert_notification(client, NOTIFICATION)
    return client


def send_email(client: Client, address: str) -> dict:
    """Send one receipt by e-mail, which must go out; its `messages.send` result."""
    [result] = send(
        client, {"notificationId": "receipt", "userId": f"u-{token()}", "userEmail": address}
    )
    assert result["status"] == "sent", result
    return result


def email_of(client: Client, message_id: str) -> dict:
    """The e-mail channel of a message, as `messages.get` answers it."""
    return answer(client.get("/messages.get", id=message_id))["message"]["channels"]["email"]


def ses_event(kind: str, ses_id: str, address: str, style: str, **section) -> dict:
    """An SES event of event publishing (`eventType`) or notification (`notificationType`)
    style."""
    sections = {
        "Delivery": {"recipients": [address], "smtpResponse": "250 ok"},
        "Bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address}],
        },
        "Complaint": {"complainedRecipients": [{"emailAddress": address}]},
        "Reject": {"reason": "Bad content"},
    }
    key = "eventType" if style == "event" else "notificationType"
    return {
        key: kind,
        "mail": {"messageId": ses_id, "destination": [address], "source": SENDER},
        kind[0].lower() + kind[1:]: {**sections[kind], **section},
    }


def post(herald, message: dict):
    """What SNS does: POST the JSON as text/plain with the type in a header."""
    return herald.app.test_client().post(
        "/webhooks/ses",
        data=json.dumps(message),
        headers={"Content-Type": "text/plain", "x-amz-sns-message-type": message["Type"]},
    )


def suppressed(herald, project_id: str) -> list[str]:
    with transaction(herald.engine) as connection:
        return [row["address"] for row in list_suppressions(connection, project_id)]


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
            sns.notification(event, SigningCertURL=sns.url("/cert.pem", host="localhost"))
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


def test_an_event_for_an_unknown_message_is_acknowledged(herald, sns):
    event = ses_event("Delivery", f"ses-{token()}", "a@example.com", "event")
    response = post(herald, sns.sign(sns.notification(event)))
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "outcome": "unknownMessage"}
    metrics = herald.app.test_client().get("/metrics").get_data(as_text=True)
    assert 'herald_ses_feedback_total{event="Delivery",outcome="unknownMessage"}' in metrics


def test_subscription_confirmation_visits_the_subscribe_url(herald, sns):
    visit = f"/confirm?Token={token()}"
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": secrets.token_hex(8),
        "Token": visit.split("=")[1],
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": sns.url(visit),
        "Timestamp": datetime.now(UTC).isoformat(),
    }
    response = post(herald, sns.sign(confirmation))
    assert response.get_json() == {"ok": True, "outcome": "confirmed"}
    assert visit in sns.visits


def test_a_subscribe_url_on_a_host_not_allowed_is_not_visited(herald, sns):
    visit = f"/confirm?Token={token()}"
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": secrets.token_hex(8),
        "Token": "t",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": sns.url(visit, host="localhost"),
        "Timestamp": datetime.now(UTC).isoformat(),
    }
    response = post(herald, sns.sign(confirmation))
    assert response.status_code == 403
    assert visit not in sns.visits


def test_a_body_that_is_not_an_sns_message_is_refused(herald):
    flask = herald.app.test_client()
    assert flask.post("/webhooks/ses", data="{not json").get_json()["error"] == "body/invalidJson"
    unsigned = flask.post("/webhooks/ses", data=json.dumps({"Type": "Notification"}))
    assert unsigned.status_code == 403
    assert flask.post("/webhooks/ses", data="[]").get_json()["error"] == "body/invalid"


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
