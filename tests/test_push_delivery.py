"""Push through Web Push end to end, both modes: Herald renders, encrypts for each browser and
signs; the stand-in push service checks the VAPID token and the test decrypts what it got with
the browser's private key. A device the service says is gone is removed; a channel is `sent`
when one device took it, `failed` when none did, `unknown` (and never pushed again) when the
service's answer never came."""

from __future__ import annotations

import time

import pytest

from shared.messages.sweeper import sweep
from shared.providers.urls import parse_chain
from shared.push.vapid import new_key_pair
from tests.support.calls import Client, answer, send, until_final, upsert_notification, upsert_users
from tests.support.data import token
from tests.support.herald import new_project, running_herald
from tests.support.push_webpush import WebPushStandin
from tests.test_push_channel import push_notification
from tests.test_push_webpush import Browser

VAPID_PRIVATE, VAPID_PUBLIC = new_key_pair()


@pytest.fixture(scope="module")
def service():
    server = WebPushStandin(hang=3.0)
    yield server
    server.close()


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory, service):
    """A Herald whose push chain is Web Push alone, reaching the stand-in on loopback."""
    with running_herald(
        request,
        tmp_path_factory,
        push_providers=parse_chain("push", "webpush://?subject=mailto:ops@example.com"),
        vapid_private_key=VAPID_PRIVATE,
        webhooks_allow_private=True,
        provider_timeout=1.0,
    ) as instance:
        yield instance


@pytest.fixture
def client(herald):
    client = Client(herald.app, new_project(herald)["apiKey"])
    return client


def browsers(client, service, *names: str) -> tuple[str, dict[str, Browser]]:
    """A user with one subscribed browser per endpoint name (each name made unique)."""
    user_id, made = f"u-{token()}", {}
    devices = []
    for name in names:
        browser, endpoint = Browser(), f"{name}-{token()}"
        made[endpoint] = browser
        keys = {"p256dh": browser.p256dh, "auth": browser.device("").auth}
        subscription = {"endpoint": service.endpoint(endpoint), "keys": keys}
        devices.append({"kind": "webpush", "subscription": subscription})
    (result,) = upsert_users(client, {"id": user_id, "firstName": "Ada", "pushTokens": devices})
    assert result["ok"], result
    return user_id, made


def deliver(client, user_id: str) -> dict:
    notification_id = f"n-{token()}"
    upsert_notification(client, push_notification(notification_id))
    item = {"notificationId": notification_id, "userId": user_id, "data": {"order": 4}}
    (result,) = send(client, {**item, "data": {"order": 4, "day": "Fri"}})
    return until_final(client, result["id"])


def test_each_browser_decrypts_its_push_and_a_gone_one_is_removed(client, service):
    user_id, made = browsers(client, service, "ok", "gone")
    ok, gone = made
    service.answers[gone] = 410
    message = deliver(client, user_id)
    push = message["channels"]["push"]
    assert push["status"] == "sent" and push["provider"] == "webpush"
    outcomes = {d["to"][-8:]: d for d in push["devices"]}
    assert outcomes[ok[-8:]]["status"] == "sent"
    assert outcomes[gone[-8:]]["status"] == "failed"
    assert outcomes[gone[-8:]]["error"].startswith("device/gone")
    (got,) = [r for r in service.received if r.endpoint == ok]
    assert got.vapid_error is None and got.vapid_key == VAPID_PUBLIC
    payload = made[ok].read(got.body)
    assert payload["title"] == "Order 4 shipped" and payload["body"] == "Hi Ada, it arrives Fri."
    assert payload["messageId"] == message["id"]
    devices = answer(client.get("/users.get", id=user_id))["user"]["devices"]
    assert len(devices) == 1 and devices[0]["endpoint"].endswith(ok[-8:])


def test_a_push_no_device_took_fails_with_the_services_answer(client, service):
    user_id, made = browsers(client, service, "bad", "bad")
    for endpoint in made:
        service.answers[endpoint] = 400
    push = deliver(client, user_id)["channels"]["push"]
    assert push["status"] == "failed" and push["reason"].startswith("webpush/400")
    assert [d["status"] for d in push["devices"]] == ["failed", "failed"]
    assert len(answer(client.get("/users.get", id=user_id))["user"]["devices"]) == 2


def test_a_push_whose_answer_never_came_is_unknown_and_never_pushed_again(herald, client, service):
    user_id, made = browsers(client, service, "silent")
    (endpoint,) = made
    service.answers[endpoint] = "hang"
    message = deliver(client, user_id)
    push = message["channels"]["push"]
    assert push["status"] == "unknown" and [d["status"] for d in push["devices"]] == ["unknown"]
    time.sleep(3.2)  # the stand-in lets go; a sweep finds nothing to push again
    sweep(herald.engine, herald.broker, herald.settings)
    time.sleep(0.5)
    assert len([r for r in service.received if r.endpoint == endpoint]) == 1
    assert answer(client.get("/messages.get", id=message["id"]))["message"]["status"] == "sent"
