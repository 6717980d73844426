"""What the retry and timeline tests share: a Herald of each mode whose SMS goes through a
Twilio stand-in (per project) and whose push goes through a Web Push stand-in, and the calls
that fail an SMS and retry it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from shared.providers.store import add_provider
from shared.providers.urls import parse_chain
from shared.push.vapid import new_key_pair
from tests.support.backends import fresh_database
from tests.support.calls import Client, answer, send, until_final, upsert_notification
from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald
from tests.support.push_webpush import WebPushStandin
from tests.support.twilio_standin import TwilioStandin

KEY = Fernet.generate_key().decode()
VAPID_PRIVATE, _ = new_key_pair()
PHONE = "+14155550100"
TEXTED = {
    "id": "texted",
    "name": "Texted",
    "withSMS": True,
    "withWidget": True,
    "templates": {"en": {"sms": {"text": "Code {{ code }}"}, "widget": {"content": "Code"}}},
}
SETTINGS = {
    "secret_keys": (KEY,),
    "push_providers": parse_chain("push", "webpush://?subject=mailto:ops@example.com"),
    "vapid_private_key": VAPID_PRIVATE,
    "webhooks_allow_private": True,
    "webhook_retries": (0.3, 0.6, 1.0),
    "provider_timeout": 1.0,
    "send_wait": 15.0,
}


@pytest.fixture(scope="module", name="twilio")
def twilio_fixture():
    """The Twilio stand-in of the module (its `fault` scripts the next sends)."""
    server = TwilioStandin(hang=2.0)
    yield server
    server.close()


@pytest.fixture(scope="module", name="service")
def service_fixture():
    """The Web Push stand-in of the module."""
    server = WebPushStandin(hang=2.0)
    yield server
    server.close()


@pytest.fixture(scope="module", params=["embedded", "production"], name="herald")
def herald_fixture(request, tmp_path_factory, twilio, service):
    """A Herald of its own database (no other test's endpoints for its webhook pump)."""
    tmp = tmp_path_factory.mktemp(f"retry-{request.param}")
    if request.param == "embedded":
        herald = build_herald("embedded", tmp, request, **SETTINGS)
        yield herald
        stop_herald(herald)
        return
    with fresh_database("herald_retry") as url:
        herald = build_herald("production", tmp, request, database_url=url, **SETTINGS)
        yield herald
        stop_herald(herald)


def texting_client(herald, twilio) -> tuple[Client, str]:
    """A client of a new project whose SMS goes through the Twilio stand-in; its project id."""
    project = new_project(herald, "retry")
    url = f"twilio://ACtest:tok@?from=%2B15005550006&baseUrl=http://127.0.0.1:{twilio.port}"
    add_provider(herald.engine, (KEY,), project["projectId"], "sms", url, "twilio")
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, TEXTED)
    return client, project["projectId"]


def texted(client: Client, twilio, fault: str | None) -> dict:
    """A message whose SMS met this fault of the stand-in, once final."""
    twilio.fault = fault
    item = {"notificationId": "texted", "userId": f"u-{token()}", "userTelephone": PHONE}
    (result,) = send(client, {**item, "data": {"code": token()}})
    return until_final(client, result["id"])


def retry(client: Client, message_id: str, channel: str, status: int = 200, **more) -> dict:
    """The answer of a `messages.retry`, which must have this status."""
    body = {"id": message_id, "channel": channel, **more}
    return answer(client.post("/messages.retry", body), status)


def sms_sent(client: Client, message_id: str) -> dict:
    """The message once its SMS is sent (or as it is after 10 s)."""
    return until_final(client, message_id, lambda m: m["channels"]["sms"]["status"] == "sent")
