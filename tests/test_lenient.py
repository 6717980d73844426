"""Absent, null and empty (SPEC §2), and the bounds of sendAt (SPEC §3), in both modes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.calls import answer, send, upsert_notification, upsert_users
from tests.support.data import notification, phone, token
from tests.support.received import emails_sent, sms_sent

TEXT_FIELDS = (
    "id",
    "incrementId",
    "sendAt",
    "userEmail",
    "userTelephone",
    "userLanguage",
    "userTimezone",
    "userFirstName",
    "userLastName",
    "userPhotoURL",
    "userCountry",
)
OBJECT_FIELDS = ("data", "widgetSettingsOverride", "emailSettingsOverride")


def null_and_empty_items(tag: str, address: str, number: str) -> list[dict]:
    """Three `welcome` items to new users whose optional fields are null or empty, but for the
    e-mail address (first), the telephone (second) or both (third)."""
    every_null = dict.fromkeys(TEXT_FIELDS + OBJECT_FIELDS)
    every_empty = {**dict.fromkeys(TEXT_FIELDS, ""), **dict.fromkeys(OBJECT_FIELDS)}
    blank_overrides = {
        "widgetSettingsOverride": {"content": None, "icon": "", "link": None},
        "emailSettingsOverride": {"subject": "", "html": None, "from": "", "replyTo": None},
    }
    items = [
        # every optional field null but the e-mail address
        {**every_null, "userEmail": address},
        # every optional text field empty but the telephone; objects null
        {**every_empty, "userTelephone": number},
        # both addresses, the rest mixed, overrides with null and empty settings
        {**every_null, **every_empty, **blank_overrides, "data": None, "userEmail": address}
        | {"userTelephone": number, "userFirstName": None, "sendAt": None},
    ]
    for i, item in enumerate(items):
        item.update(notificationId="welcome", userId=f"lenient-{tag}-{i}")
    return items


def test_a_batch_of_null_and_empty_optional_fields_sends_on_every_channel_with_an_address(
    herald, client
):
    # Given the standard notification (e-mail, SMS, widget) and three new users
    upsert_notification(client, notification())
    tag = token()
    address, number = f"lenient.{tag}@example.com", phone()
    items = null_and_empty_items(tag, address, number)
    # When they are sent in one batch
    results = send(client, *items)
    # Then each is sent on every channel that has an address, with a generated id
    assert [r["ok"] for r in results] == [True, True, True], results
    assert [r["status"] for r in results] == ["sent"] * 3
    assert len({r["id"] for r in results}) == 3 and all(r["id"] for r in results)
    channels = [{c: v["status"] for c, v in r["channels"].items()} for r in results]
    assert channels == [
        {"email": "sent", "sms": "skipped", "widget": "sent"},
        {"email": "skipped", "sms": "sent", "widget": "sent"},
        {"email": "sent", "sms": "sent", "widget": "sent"},
    ]
    assert results[0]["channels"]["sms"]["reason"] == "userTelephone/missing"
    assert results[1]["channels"]["email"]["reason"] == "userEmail/missing"
    # The providers got two e-mails and two SMS, from the templates (no override applied)
    mails = [m for m in emails_sent(herald) if m["to"] == address]
    assert len(mails) == 2 and all(m["subject"].startswith("Hello") for m in mails)
    assert [m["to"] for m in sms_sent(herald)].count(number) == 2
    # The empty profile fields filled nothing
    user = answer(client.get("/users.get", id=f"lenient-{tag}-1"))["user"]
    assert user["email"] is None and user["timezone"] is None and user["firstName"] is None


def test_data_null_is_an_empty_object(client):
    upsert_notification(client, notification(withEmail=False, withSMS=False))
    [result] = send(client, {"notificationId": "welcome", "userId": f"u-{token()}", "data": None})
    message = answer(client.get("/messages.get", id=result["id"]))["message"]
    assert message["data"] == {}


@pytest.mark.parametrize(
    "field, value",
    [("userEmaill", "a@example.com"), ("sendat", None), ("userEmail ", ""), ("Data", None)],
)
def test_unknown_keys_are_still_refused_even_when_null_or_empty(client, field, value):
    upsert_notification(client, notification())
    [result] = send(client, {"notificationId": "welcome", "userId": "u", field: value})
    assert (result["ok"], result["error"]) == (False, f"{field}/unknown")


def test_an_unknown_setting_in_an_override_is_still_refused(client):
    upsert_notification(client, notification())
    item = {"notificationId": "welcome", "userId": "u", "emailSettingsOverride": {"subjet": ""}}
    [result] = send(client, item)
    assert result["error"] == "emailSettingsOverride/invalid"


def test_users_upsert_with_empty_strings_clears_profile_fields(client):
    # Given a user with every profile field set
    user_id = f"clear-{token()}"
    full = {
        "email": f"{user_id}@example.com",
        "telephone": phone(),
        "firstName": "Ann",
        "lastName": "Lee",
        "photoURL": "https://example.com/ann.png",
        "language": "pt-BR",
        "timezone": "Asia/Tokyo",
        "country": "JP",
    }
    upsert_users(client, {"id": user_id, **full})
    # When an upsert sends "" for some fields and null for others
    half = list(full)[:4]
    blanks = {name: "" if name in half else None for name in full}
    [result] = upsert_users(client, {"id": user_id, **blanks})
    # Then every one of them is cleared
    assert result == {"id": user_id, "ok": True, "created": False}
    user = answer(client.get("/users.get", id=user_id))["user"]
    assert {name: user[name] for name in full} == dict.fromkeys(full)


def test_users_upsert_still_refuses_a_bad_non_empty_value(client):
    [result] = upsert_users(client, {"id": "u", "email": " "})
    assert result["error"] == "email/invalid"


def _ahead(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "send_at, status",
    [
        ("9999-12-31T23:59:59-01:00", "sendAt/invalid"),  # past year 9999 once in UTC
        ("0001-01-01T00:00:00+01:00", "sendAt/invalid"),  # before year 1 once in UTC
        ("0000-06-01T00:00:00Z", "sendAt/invalid"),  # year 0
        ("2026-12-01T09:00:00+24:00", "sendAt/invalid"),  # offset of 24 hours
        ("2026-12-01T09:00:00-25:30", "sendAt/invalid"),
        ("2026-02-30T09:00:00Z", "sendAt/invalid"),
        ("9999-12-31T23:59:59", "sendAt/invalid"),  # local, years ahead
        (_ahead(366), "sendAt/invalid"),
        (_ahead(364), "scheduled"),
        ("2000-01-01T00:00:00Z", "sent"),  # in the past: sent now
        ("0001-01-01T00:00:00Z", "sent"),
        ("2020-12-01T09:00:00+23:59", "sent"),
    ],
)
def test_send_at_edges(client, send_at, status):
    upsert_notification(client, notification(withEmail=False, withSMS=False))
    [result] = send(client, {"notificationId": "welcome", "userId": "u", "sendAt": send_at})
    assert result.get("error", result["status"]) == status, result


def test_a_local_send_at_past_365_days_in_the_users_zone_is_refused_and_keeps_its_id(client):
    # Two hours short of 365 days when read in UTC, nine hours past them in Niue (UTC-11)
    upsert_notification(client, notification(withEmail=False, withSMS=False))
    local = (datetime.now(UTC) + timedelta(days=365, hours=-2)).replace(tzinfo=None)
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "id": f"m-{token()}"}
    item |= {"sendAt": local.isoformat(), "userTimezone": "Pacific/Niue"}
    [refused] = send(client, item)
    assert refused["error"] == "sendAt/invalid"
    # The id was not used up: the same message without sendAt goes
    [result] = send(client, {**item, "sendAt": None})
    assert (result["id"], result["status"]) == (item["id"], "sent")
