"""Quiet hours (SPEC §3): e-mail and SMS due inside a notification's window wait for its end in
the user's time zone, the widget appears at once; the sweeper sends them at the end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.messages.sweeper import sweep
from tests.support.calls import answer, send, until_final, upsert_notification
from tests.support.data import notification, phone, token
from tests.support.received import emails_sent, sms_sent


def quiet_notification(start: str = "22:00", end: str = "08:00", **window) -> dict:
    """The standard notification (e-mail, SMS, widget) with quiet hours."""
    return notification(quietHours={"start": start, "end": end, **window})


def recipient(timezone: str | None) -> dict:
    """The `user*` fields of a new user with both addresses, in this time zone."""
    return {
        "userId": f"quiet-{token()}",
        "userEmail": f"quiet.{token()}@example.com",
        "userTelephone": phone(),
        "userTimezone": timezone,
    }


def received(herald, user: dict) -> tuple[int, int]:
    """How many e-mails and SMS the providers took for this user."""
    mails = [m for m in emails_sent(herald) if m["to"] == user["userEmail"]]
    texts = [m for m in sms_sent(herald) if m["to"] == user["userTelephone"]]
    return len(mails), len(texts)


def get(client, message_id: str) -> dict:
    return answer(client.get("/messages.get", id=message_id))["message"]


def held_until(herald, client, user: dict, send_at: str, due: datetime) -> dict:
    """Send a message for `send_at` and sweep at `due` (its time, as the test's clock); the
    message once its widget is shown."""
    [result] = send(client, {"notificationId": "welcome", "sendAt": send_at, **user})
    assert result["status"] == "scheduled", result
    assert sweep(herald.engine, herald.broker, herald.settings, now=due)["released"] >= 1
    return until_final(client, result["id"], lambda m: m["channels"]["widget"]["status"] == "sent")


def assert_held(message: dict, end: datetime) -> None:
    """The widget shown, the e-mail and SMS scheduled for `end`."""
    assert message["status"] == "scheduled", message
    assert datetime.fromisoformat(message["scheduledAt"]) == end
    for channel in ("email", "sms"):
        assert message["channels"][channel] == {
            "status": "scheduled",
            "reason": "quietHours",
            "scheduledAt": end.astimezone(UTC).isoformat(),
        }
    assert message["channels"]["widget"] == {"status": "sent"}


def assert_sent_at_the_end(herald, client, user: dict, message: dict, end: datetime) -> None:
    """Nothing goes a second before `end`; at `end` the sweeper sends the e-mail and the SMS."""
    sweep(herald.engine, herald.broker, herald.settings, now=end - timedelta(seconds=1))
    assert get(client, message["id"])["status"] == "scheduled"
    assert received(herald, user) == (0, 0)
    assert sweep(herald.engine, herald.broker, herald.settings, now=end)["released"] >= 1
    sent = until_final(client, message["id"])
    assert sent["status"] == "sent", sent
    assert {c: v["status"] for c, v in sent["channels"].items()} == dict.fromkeys(
        ("email", "sms", "widget"), "sent"
    )
    assert received(herald, user) == (1, 1)


def test_at_23_in_tokyo_email_and_sms_wait_for_08_and_the_widget_shows_at_once(herald, client):
    # Given quiet hours 22:00-08:00 and a user in Tokyo
    upsert_notification(client, quiet_notification())
    user = recipient("Asia/Tokyo")
    tokyo = ZoneInfo("Asia/Tokyo")
    at = datetime.combine(datetime.now(tokyo).date() + timedelta(days=2), time(23), tzinfo=tokyo)
    # When a message is due at 23:00 their time
    message = held_until(herald, client, user, at.isoformat(), at)
    # Then the widget is shown and the e-mail and SMS are scheduled for 08:00 their time
    end = datetime.combine(at.date() + timedelta(days=1), time(8), tzinfo=tokyo)
    assert_held(message, end)
    assert message["widget"]["content"].startswith("Welcome")
    assert received(herald, user) == (0, 0)
    # And the sweeper sends them at 08:00
    assert_sent_at_the_end(herald, client, user, message, end)


@pytest.mark.parametrize(
    "user_zone, window_zone",
    [("Asia/Tokyo", None), (None, "Asia/Tokyo"), (None, None), ("Asia/Tokyo", "UTC")],
)
def test_a_send_now_inside_quiet_hours_answers_the_widget_and_when_the_rest_goes(
    client, user_zone, window_zone
):
    # Given a window from an hour ago to two hours ahead, in the zone that applies: the
    # user's, else the window's, else UTC
    zone = ZoneInfo(user_zone or window_zone or "UTC")
    local = datetime.now(zone).replace(second=0, microsecond=0)
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    window = {"timezone": window_zone} if window_zone else {}
    body = quiet_notification(f"{start:%H:%M}", f"{end:%H:%M}", **window)
    upsert_notification(client, body)
    # When a message is sent now
    [result] = send(client, {"notificationId": "welcome", **recipient(user_zone)})
    # Then the answer shows the widget sent and the e-mail and SMS scheduled for the end
    assert_held(result, end)
    assert get(client, result["id"])["widget"]["content"].startswith("Welcome")


def test_outside_quiet_hours_everything_goes_at_once(client):
    zone = ZoneInfo("Asia/Tokyo")
    local = datetime.now(zone)
    start, end = local + timedelta(hours=1), local + timedelta(hours=3)
    upsert_notification(client, quiet_notification(f"{start:%H:%M}", f"{end:%H:%M}"))
    [result] = send(client, {"notificationId": "welcome", **recipient("Asia/Tokyo")})
    assert result["status"] == "sent"
    assert {c: v["status"] for c, v in result["channels"].items()} == dict.fromkeys(
        ("email", "sms", "widget"), "sent"
    )


def _last_sunday(year: int, month: int) -> date:
    """The last Sunday of a month: when Europe's clocks change (March forward, October back)."""
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _next_change(month: int) -> date:
    """The next last Sunday of `month` at least two days away."""
    year = date.today().year
    while _last_sunday(year, month) < date.today() + timedelta(days=2):
        year += 1
    return _last_sunday(year, month)


@pytest.mark.parametrize(
    "month, window, hours, local_end",
    [
        (3, ("22:00", "08:00"), 8, "08:00"),  # 23:00 GMT -> 08:00 BST: an hour shorter
        (10, ("22:00", "08:00"), 10, "08:00"),  # 23:00 BST -> 08:00 GMT: an hour longer
        (3, ("22:00", "01:30"), 2, "02:00"),  # no 01:30 that night: when the clocks change
    ],
)
def test_quiet_hours_end_at_local_wall_time_across_a_dst_change_in_london(
    herald, client, month, window, hours, local_end
):
    # Given quiet hours and a user in London, and a message due at 23:00 (a local sendAt, read
    # in the user's zone) on the evening before the clocks change
    upsert_notification(client, quiet_notification(*window))
    user = recipient("Europe/London")
    london = ZoneInfo("Europe/London")
    evening = _next_change(month) - timedelta(days=1)
    at = datetime.combine(evening, time(23), tzinfo=london).astimezone(UTC)
    # When the sweeper releases it at 23:00
    message = held_until(herald, client, user, f"{evening}T23:00:00", at)
    # Then e-mail and SMS wait until the window's end on the local clock
    end = at + timedelta(hours=hours)  # in UTC: elapsed hours, whatever the clocks did
    assert_held(message, end)
    assert end.astimezone(london).strftime("%H:%M") == local_end
    # And go at that instant, not a second before
    assert_sent_at_the_end(herald, client, user, message, end)


@pytest.mark.parametrize(
    "window",
    [
        {"start": "24:00", "end": "08:00"},
        {"start": "8:00", "end": "09:00"},
        {"start": "22:00", "end": "22:00"},
        {"start": "22:00"},
        {"start": "22:00", "end": "08:60"},
        {"start": "22:00", "end": "08:00", "timezone": "Mars/Olympus"},
        {"start": "22:00", "end": "08:00", "zone": "UTC"},
        {"start": 2200, "end": "08:00"},
    ],
)
def test_a_bad_quiet_hours_window_is_refused(client, window):
    response = client.post("/notifications.upsert", quiet_notification() | {"quietHours": window})
    assert answer(response, 400)["error"] == "quietHours/invalid"


def test_quiet_hours_are_stored_and_shown_and_null_removes_them(client):
    stored = upsert_notification(client, quiet_notification("23:30", "07:15", timezone="UTC"))
    assert stored["quietHours"] == {"start": "23:30", "end": "07:15", "timezone": "UTC"}
    shown = answer(client.get("/notifications.get", id="welcome"))["notification"]
    assert shown["quietHours"] == stored["quietHours"]
    assert upsert_notification(client, notification(quietHours=None))["quietHours"] is None


def test_an_increment_during_quiet_hours_refreshes_the_widget_and_sends_nothing(herald, client):
    # Given a message held by quiet hours (a window around now, in Tokyo), stacked by incrementId
    zone = ZoneInfo("Asia/Tokyo")
    local = datetime.now(zone).replace(second=0, microsecond=0)
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    upsert_notification(client, quiet_notification(f"{start:%H:%M}", f"{end:%H:%M}"))
    user = recipient("Asia/Tokyo")
    item = {"notificationId": "welcome", "incrementId": "orders", **user}
    [first] = send(client, item)
    assert first["status"] == "scheduled"
    # When a second message stacks onto it
    [second] = send(client, item)
    assert (second["status"], second["increment"]) == ("incremented", 2)
    # Then the widget shows the increment, and the e-mail and SMS still wait, unsent
    message = until_final(client, first["id"], lambda m: m["widget"]["content"].endswith("#2"))
    assert message["widget"]["content"].endswith("#2"), message
    assert_held(message, end)
    assert received(herald, user) == (0, 0)
