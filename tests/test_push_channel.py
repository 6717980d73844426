"""The push channel end to end (SPEC §10) through the outbox's push.log, both modes: a user's
devices from users.upsert, one push a device, each device's outcome in messages.get, the
skip without devices, mutes, stacking, quiet hours, and bad devices refused with nothing
stored."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

from tests.support.calls import answer, send, until_final, upsert_notification, upsert_users
from tests.support.data import token
from tests.support.push import APNS, FCM, subscription


def push_notification(notification_id: str, **fields) -> dict:
    return {
        "id": notification_id,
        "name": "Shipped",
        "withPush": True,
        "allowMutePush": True,
        "templates": {
            "en": {
                "push": {
                    "title": "Order {{ order }} shipped",
                    "body": "Hi {{ firstName }}, it arrives {{ day }}.",
                    "url": "https://shop.example/orders/{{ order }}",
                    "data": {"kind": "order", "n": 3},
                }
            }
        },
        **fields,
    }


def pushes(herald) -> list[dict]:
    path = herald.outbox / "push.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def user_with_devices(client, *devices) -> str:
    user_id = f"u-{token()}"
    (result,) = upsert_users(
        client, {"id": user_id, "firstName": "Ada", "pushTokens": list(devices)}
    )
    assert result["ok"], result
    return user_id


def test_a_push_goes_once_to_each_device_and_messages_get_gives_each_outcome(herald, client):
    notification_id = f"n-{token()}"
    upsert_notification(client, push_notification(notification_id))
    browser = subscription()
    user_id = user_with_devices(
        client,
        {"kind": "fcm", "token": FCM},
        {"kind": "apns", "token": APNS},
        {"kind": "webpush", "subscription": browser},
        {"kind": "fcm", "token": FCM},  # a duplicate is ignored
    )
    devices = answer(client.get("/users.get", id=user_id))["user"]["devices"]
    assert [d["kind"] for d in devices] == ["fcm", "apns", "webpush"]
    assert all("…" in (d.get("token") or d["endpoint"]) for d in devices)  # shortened

    (result,) = send(
        client,
        {"notificationId": notification_id, "userId": user_id, "data": {"order": 7, "day": "Mon"}},
    )
    message = until_final(client, result["id"])
    push = message["channels"]["push"]
    assert push["status"] == "sent" and push["provider"] == "outbox"
    assert [d["status"] for d in push["devices"]] == ["sent"] * 3
    assert {d["deviceId"] for d in push["devices"]} == {d["id"] for d in devices}
    lines = [line for line in pushes(herald) if line["messageId"] == result["id"]]
    assert sorted(line["kind"] for line in lines) == ["apns", "fcm", "webpush"]
    for line in lines:
        assert line["title"] == "Order 7 shipped"
        assert line["body"] == "Hi Ada, it arrives Mon."
        assert line["url"] == "https://shop.example/orders/7"
        assert line["data"] == {"kind": "order", "n": 3}
    assert {line["to"] for line in lines} == {FCM, APNS, browser["endpoint"]}


def test_a_user_without_devices_is_skipped_and_a_muted_push_is_muted(herald, client):
    notification_id = f"n-{token()}"
    upsert_notification(client, push_notification(notification_id))
    bare = f"u-{token()}"
    muted = user_with_devices(client, {"kind": "fcm", "token": FCM})
    upsert_users(client, {"id": muted, "preferences": {notification_id: {"mutePush": True}}})
    results = send(
        client,
        {"notificationId": notification_id, "userId": bare},
        {"notificationId": notification_id, "userId": muted},
    )
    skipped, silenced = (until_final(client, r["id"]) for r in results)
    assert skipped["channels"]["push"] == {"status": "skipped", "reason": "pushTokens/missing"}
    assert silenced["channels"]["push"]["status"] == "muted"
    assert not [p for p in pushes(herald) if p["messageId"] in {r["id"] for r in results}]


def test_an_incremented_message_does_not_push_again(herald, client):
    notification_id = f"n-{token()}"
    upsert_notification(client, push_notification(notification_id, stackTimeout=600))
    user_id = user_with_devices(client, {"kind": "apns", "token": APNS})
    item = {"notificationId": notification_id, "userId": user_id, "incrementId": "order-1"}
    (first,) = send(client, {**item, "data": {"order": 1}})
    until_final(client, first["id"])
    (second,) = send(client, {**item, "data": {"order": 2}})
    assert second["status"] == "incremented" and second["id"] == first["id"]
    assert len([p for p in pushes(herald) if p["messageId"] == first["id"]]) == 1


def test_a_push_waits_out_quiet_hours_like_an_sms(herald, client):
    notification_id = f"n-{token()}"
    now = datetime.now(UTC)  # a window around now, whatever the time of the run
    start, end = (f"{(now + timedelta(hours=h)):%H:%M}" for h in (-1, 1))
    always = {"start": start, "end": end, "timezone": "UTC"}
    upsert_notification(client, push_notification(notification_id, quietHours=always))
    user_id = user_with_devices(client, {"kind": "fcm", "token": FCM})
    (result,) = send(client, {"notificationId": notification_id, "userId": user_id})
    message = until_final(
        client, result["id"], lambda m: m["channels"]["push"]["status"] != "pending"
    )
    assert message["status"] == "scheduled"
    assert message["channels"]["push"]["status"] == "scheduled"
    assert not [p for p in pushes(herald) if p["messageId"] == result["id"]]


def test_a_push_settings_override_replaces_the_template(herald, client):
    notification_id = f"n-{token()}"
    upsert_notification(client, push_notification(notification_id))
    user_id = user_with_devices(client, {"kind": "fcm", "token": FCM})
    override = {"title": "Now {{ order }}", "data": {"x": "y"}}
    (result,) = send(
        client,
        {
            "notificationId": notification_id,
            "userId": user_id,
            "data": {"order": 9},
            "pushSettingsOverride": override,
        },
    )
    until_final(client, result["id"])
    (line,) = [p for p in pushes(herald) if p["messageId"] == result["id"]]
    assert (line["title"], line["data"]) == ("Now 9", {"x": "y"})


def test_a_scheduled_push_goes_when_its_send_at_comes(herald, client):
    from shared.messages.sweeper import sweep

    notification_id = f"n-{token()}"
    upsert_notification(client, push_notification(notification_id))
    user_id = user_with_devices(client, {"kind": "fcm", "token": FCM})
    when = datetime.now(UTC) + timedelta(seconds=1)
    item = {"notificationId": notification_id, "userId": user_id, "sendAt": when.isoformat()}
    (result,) = send(client, {**item, "data": {"order": 5}})
    assert result["status"] == "scheduled" and result["channels"]["push"] == {"status": "pending"}
    assert not [p for p in pushes(herald) if p["messageId"] == result["id"]]
    time.sleep(1.2)
    sweep(herald.engine, herald.broker, herald.settings)
    assert until_final(client, result["id"])["channels"]["push"]["status"] == "sent"
    (line,) = [p for p in pushes(herald) if p["messageId"] == result["id"]]
    assert line["title"] == "Order 5 shipped"


def test_preview_renders_the_push_as_a_send_would(client):
    notification_id = f"n-{token()}"
    upsert_notification(client, push_notification(notification_id))
    body = {"notificationId": notification_id, "data": {"order": 3, "day": "Sun"}}
    preview = answer(client.post("/templates.preview", body))
    assert preview["push"]["title"] == "Order 3 shipped"
    assert preview["push"]["body"] == "Hi , it arrives Sun."
    assert preview["push"]["data"] == {"kind": "order", "n": 3}
    assert preview["undefined"] == ["firstName"]


def test_the_bell_gets_the_vapid_public_key_embedded_with_no_configuration(herald):
    from shared.push.vapid import load_private_key, public_key_b64

    key = herald.app.extensions["herald"]["settings"].vapid_private_key
    if herald.mode == "production":  # the processes must share one: HERALD_VAPID_PRIVATE_KEY
        assert key is None
        return
    path = herald.outbox.parent / "vapid_private_key"
    assert path.read_text().strip() == key and (path.stat().st_mode & 0o777) == 0o600
    assert len(base64.urlsafe_b64decode(public_key_b64(load_private_key(key)) + "=")) == 65
