"""What the delivery feedback tests share: a stand-in for SNS that signs messages as SNS does
and serves its certificate on 127.0.0.1, SES events, and the ways to send and look."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from shared.contacts.suppressions import list_suppressions
from shared.feedback.sns import canonical_string
from shared.infra.db import transaction
from tests.support.calls import Client, answer, send
from tests.support.data import SENDER, token

NOTIFICATION = {
    "id": "receipt",
    "name": "Receipt",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Receipt {{ n }}", "text": "Thanks {{ n }}"}}},
}
TOPIC = "arn:aws:sns:us-east-1:123456789012:herald-feedback"
OTHER_TOPIC = "arn:aws:sns:us-east-1:210987654321:someone-elses-topic"


@dataclass
class SnsStandIn:
    """SNS as seen from a subscriber: a key, its self-signed certificate served over HTTP on
    127.0.0.1 at any `.pem` path (a `/moved-` one redirects to the rest), and the paths it was
    asked for."""

    key: rsa.RSAPrivateKey
    port: int
    requested: list[str] = field(default_factory=list)
    # Certificates are kept by URL: a path of this stand-in's own, never one another had.
    cert_path: str = field(default_factory=lambda: f"/cert-{secrets.token_hex(6)}.pem")

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def visits(self) -> list[str]:
        """The SubscribeURL visits, as SNS records them."""
        return [path for path in self.requested if path.startswith("/confirm")]

    def sign(self, message: dict, version: str = "2", key=None) -> dict:
        """The message with SignatureVersion, SigningCertURL and Signature as SNS adds them."""
        fields = {"SignatureVersion": version, "SigningCertURL": self.url(self.cert_path)}
        message = {**fields, **message}
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

    def confirmation(self, visit: str, **fields) -> dict:
        """An unsigned SubscriptionConfirmation whose SubscribeURL is `visit` on the stand-in."""
        return {
            "Type": "SubscriptionConfirmation",
            "MessageId": secrets.token_hex(8),
            "Token": visit.split("=")[-1],
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": self.url(visit),
            "Timestamp": datetime.now(UTC).isoformat(),
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


@contextlib.contextmanager
def sns_standin() -> Iterator[SnsStandIn]:
    """The stand-in's HTTP server for the certificate and the SubscribeURL, until the end of
    the block."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = _certificate(key)
    requested: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requested.append(self.path)
            if self.path.startswith("/moved-"):  # a redirect to the path without the prefix
                self.send_response(302)
                self.send_header("Location", self.path.replace("/moved-", "/", 1))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            pem_path = self.path.split("?")[0].endswith(".pem")
            body = pem if pem_path else b"<ConfirmSubscriptionResponse/>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield SnsStandIn(key, server.server_address[1], requested)
    finally:
        server.shutdown()


def send_email(client: Client, address: str) -> dict:
    """Send one receipt by e-mail, which must go out; its `messages.send` result."""
    [result] = send(
        client, {"notificationId": "receipt", "userId": f"u-{token()}", "userEmail": address}
    )
    assert result["status"] == "sent", result
    return result


def email_of(client: Client, message_id: str) -> dict:
    """The e-mail channel of a message, as `messages.get` answers it, without the provider's
    name and attempts (which feedback never changes)."""
    email = answer(client.get("/messages.get", id=message_id))["message"]["channels"]["email"]
    return {key: value for key, value in email.items() if key not in ("provider", "attempts")}


def ses_event(kind: str, ses_id: str, address: str | list[str], style: str, **section) -> dict:
    """An SES event of event publishing (`eventType`) or notification (`notificationType`)
    style, about one address or several."""
    addresses = [address] if isinstance(address, str) else address
    sections = {
        "Delivery": {"recipients": addresses, "smtpResponse": "250 ok"},
        "Bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": a} for a in addresses],
        },
        "Complaint": {"complainedRecipients": [{"emailAddress": a} for a in addresses]},
        "Reject": {"reason": "Bad content"},
    }
    key = "eventType" if style == "event" else "notificationType"
    return {
        key: kind,
        "mail": {"messageId": ses_id, "destination": addresses, "source": SENDER},
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
    """The project's suppressed addresses, oldest first."""
    with transaction(herald.engine) as connection:
        return [row["address"] for row in list_suppressions(connection, project_id)]
