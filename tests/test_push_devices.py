"""Push devices (SPEC §10): users.devices.remove, the bound per user, and bad devices refused
with a per-item code and nothing stored (both modes)."""

from __future__ import annotations

import base64

import pytest

from tests.support.calls import answer, send, upsert_notification, upsert_users
from tests.support.data import token
from tests.support.push import APNS, FCM, b64, subscription
from tests.test_push_channel import push_notification, user_with_devices


def test_users_devices_remove_takes_one_device_off(herald, client):
    user_id = user_with_devices(
        client, {"kind": "fcm", "token": FCM}, {"kind": "apns", "token": APNS}
    )
    removed = answer(client.post("/users.devices.remove", {"userId": user_id, "token": FCM}))
    assert removed == {"ok": True, "removed": True}
    again = answer(client.post("/users.devices.remove", {"userId": user_id, "token": FCM}))
    assert again["removed"] is False
    devices = answer(client.get("/users.get", id=user_id))["user"]["devices"]
    assert [d["kind"] for d in devices] == ["apns"]
    bad = client.post("/users.devices.remove", {"userId": user_id})
    assert bad.status_code == 400 and bad.get_json()["error"] == "token/required"


def _bad_devices() -> list[tuple[object, str]]:
    """Each bad device with a word its refusal names."""
    good = subscription()
    point = base64.urlsafe_b64decode(good["keys"]["p256dh"] + "==")
    auth = good["keys"]["auth"]

    def web(endpoint=good["endpoint"], p256dh=good["keys"]["p256dh"], secret=auth) -> dict:
        keys = {"p256dh": p256dh, "auth": secret}
        return {"kind": "webpush", "subscription": {"endpoint": endpoint, "keys": keys}}

    return [
        ({"kind": "fcm", "token": "short"}, "fcm token"),
        ({"kind": "apns", "token": "xyz" * 30}, "hex"),
        ({"kind": "apns", "token": APNS, "subscription": good}, "token"),
        ({"kind": "telegram", "token": FCM}, "kind"),
        ({"kind": "webpush", "token": FCM}, "subscription"),
        (web("http://1.1.1.1/x"), "https"),
        (web("https://127.0.0.1/x"), "non-public"),
        (web("https://[::1]/x"), "non-public"),
        (web("https://169.254.169.254/x"), "non-public"),
        (web(p256dh=b64(b"\x04" + bytes(64))), "P-256"),
        (web(p256dh=b64(point[:33])), "65 bytes"),
        (web(secret=b64(bytes(8))), "16 bytes"),
    ]


@pytest.mark.parametrize("index", range(12))
def test_a_bad_device_is_refused_with_its_code_and_nothing_is_stored(herald, client, index):
    device, word = _bad_devices()[index]
    user_id = f"u-{token()}"
    (result,) = upsert_users(client, {"id": user_id, "pushTokens": [device]})
    assert (result["ok"], result["error"]) == (False, "pushTokens/invalid"), result
    assert word in result["message"], result
    assert client.get("/users.get", id=user_id).status_code == 404


def test_a_user_has_at_most_twenty_devices(herald, client):
    user_id = f"u-{token()}"
    many = [{"kind": "fcm", "token": f"{'t' * 32}{i:05d}"} for i in range(10_000)]
    (result,) = upsert_users(client, {"id": user_id, "pushTokens": many})
    assert result["error"] == "pushTokens/tooMany"
    assert client.get("/users.get", id=user_id).status_code == 404
    upsert_users(client, {"id": user_id, "pushTokens": many[:20]})
    (over,) = upsert_users(client, {"id": user_id, "firstName": "X", "pushTokens": many[20:21]})
    assert over["error"] == "pushTokens/tooMany"
    user = answer(client.get("/users.get", id=user_id))["user"]
    assert len(user["devices"]) == 20 and user["firstName"] is None


def test_push_data_over_4_kib_is_refused_on_the_notification_and_the_override(herald, client):
    notification_id = f"n-{token()}"
    body = push_notification(notification_id)
    body["templates"]["en"]["push"]["data"] = {"blob": "x" * 5000}
    response = client.post("/notifications.upsert", body)
    assert response.status_code == 400 and "4096" in response.get_json()["message"]
    assert client.get("/notifications.get", id=notification_id).status_code == 404
    upsert_notification(client, push_notification(notification_id))
    item = {
        "notificationId": notification_id,
        "userId": f"u-{token()}",
        "pushSettingsOverride": {"data": {"blob": "x" * 5000}},
    }
    (result,) = send(client, item)
    assert result["ok"] is False and "4096" in result["message"]


def test_a_deleted_user_takes_its_devices_along(herald, client):
    user_id = user_with_devices(client, {"kind": "fcm", "token": FCM})
    assert answer(client.post("/users.delete", {"ids": [user_id]}))["results"][0]["deleted"]
    upsert_users(client, {"id": user_id})
    assert answer(client.get("/users.get", id=user_id))["user"]["devices"] == []
