"""The frontend API (/front/*): per-user HMAC, the feed, read state, the profile a browser may
change, CORS and text/plain bodies, in both modes."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.feed.reading import user_hmac
from tests.support.calls import send, upsert_notification, upsert_users
from tests.support.data import comment_notification, token

NOTIFICATION = comment_notification("{{ author }} commented ({{ increment }})")


class Front:
    """A browser's calls for one user: auth in the query (GET) or in the body (POST)."""

    def __init__(self, app, project: dict, user_id: str) -> None:
        self.flask = app.test_client()
        self.auth = {
            "projectId": project["projectId"],
            "userId": user_id,
            "userHmac": user_hmac(project["widgetSecret"], user_id),
        }

    def get(self, path: str, **params):
        return self.flask.get(f"/front/{path}", query_string={**self.auth, **params})

    def post(self, path: str, body: dict | None = None, content_type: str = "text/plain"):
        data = json.dumps({**self.auth, **(body or {})})
        return self.flask.post(f"/front/{path}", data=data, content_type=content_type)


@pytest.fixture
def user_id(client) -> str:
    """A user with an e-mail address, and the notification sent to it."""
    upsert_notification(client, NOTIFICATION)
    user = f"u-{token()}"
    [result] = upsert_users(
        client, {"id": user, "email": f"{user}@example.com", "telephone": "+447911123456"}
    )
    assert result["ok"], result
    return user


@pytest.fixture
def front(herald, project, user_id) -> Front:
    return Front(herald.app, project, user_id)


def comment(client, user_id: str, **fields) -> dict:
    """Send the user one comment; its result."""
    item = {"notificationId": "comment", "userId": user_id, "data": {"author": "Ann"}, **fields}
    return send(client, item)[0]


def test_messages_list_pages_newest_first_with_counts(client, front, user_id):
    ids = [comment(client, user_id)["id"] for _ in range(3)]
    page = front.get("messages.list", limit="2").get_json()
    assert [m["id"] for m in page["messages"]] == [ids[2], ids[1]]
    assert (page["total"], page["unread"]) == (3, 3)
    first = page["messages"][0]
    assert first["content"] == "Ann commented (1)"
    assert first["link"] == "/c" and first["notificationId"] == "comment"
    assert first["readAt"] is None and first["createdAt"]
    rest = front.get("messages.list", skip="2", limit="2").get_json()
    assert [m["id"] for m in rest["messages"]] == [ids[0]]


def test_a_stacked_message_moves_to_the_top_unread(client, front, user_id):
    stacked = comment(client, user_id, incrementId="thread-1")["id"]
    newer = comment(client, user_id)["id"]
    assert front.post("messages.read", {"messageId": stacked}).status_code == 200
    result = comment(client, user_id, incrementId="thread-1", data={"author": "Bob"})
    assert result["status"] == "incremented"
    page = front.get("messages.list").get_json()
    assert [m["id"] for m in page["messages"]] == [stacked, newer]
    assert page["messages"][0]["readAt"] is None
    # the widget content is re-rendered by the refresh job the increment enqueued
    deadline = time.monotonic() + 5
    while page["messages"][0]["content"] != "Bob commented (2)" and time.monotonic() < deadline:
        time.sleep(0.05)
        page = front.get("messages.list").get_json()
    assert page["messages"][0]["content"] == "Bob commented (2)"


@pytest.mark.parametrize("limit", ["51", "-1", "x"])
def test_a_limit_out_of_range_is_refused(front, limit):
    response = front.get("messages.list", limit=limit)
    assert response.status_code == 400
    assert response.get_json()["error"] == "limit/invalid"


@pytest.mark.parametrize(
    "change",
    [
        {"userHmac": "0" * 64},
        {"userHmac": ""},
        {"userId": "someone-else"},
        {"projectId": "prj_nothere"},
    ],
)
def test_a_wrong_or_missing_hmac_is_401(front, change):
    front.auth.update(change)
    for response in (
        front.get("users.get"),
        front.get("messages.list"),
        front.get("messages.stream"),
        front.post("messages.readAll"),
        front.post("users.setProfile", {"user": {"language": "fr"}}),
    ):
        assert response.status_code == 401
        assert response.get_json()["error"] == "auth/invalid"
        assert response.get_json()["message"]


def test_missing_auth_fields_are_401(herald):
    response = herald.app.test_client().get("/front/users.get")
    assert response.status_code == 401
    assert response.get_json()["error"] == "auth/invalid"


def test_another_users_message_is_not_found_and_stays_unread(herald, project, client, user_id):
    other = f"u-{token()}"
    theirs = comment(client, other)["id"]
    mine = Front(herald.app, project, user_id)
    for message_id in (theirs, "no-such-message"):
        response = mine.post("messages.read", {"messageId": message_id})
        assert response.status_code == 404
        assert response.get_json() == {
            "error": "message/notFound",
            "message": f"No message with id {message_id!r} in this project.",
        }
    page = Front(herald.app, project, other).get("messages.list").get_json()
    assert page["unread"] == 1 and page["messages"][0]["readAt"] is None


def test_read_and_read_all(client, front, user_id):
    ids = [comment(client, user_id)["id"] for _ in range(3)]
    answer = front.post("messages.read", {"messageId": ids[0]}, content_type="application/json")
    assert answer.status_code == 200 and answer.get_json()["unread"] == 2
    page = front.get("messages.list").get_json()
    read = {m["id"]: m["readAt"] for m in page["messages"]}
    assert read[ids[0]] is not None and read[ids[1]] is None
    assert front.post("messages.readAll").get_json() == {"ok": True, "unread": 0}
    page = front.get("messages.list").get_json()
    assert page["unread"] == 0 and all(m["readAt"] for m in page["messages"])


def test_users_get_gives_every_notification_a_preference(client, front, user_id):
    body = front.get("users.get").get_json()
    assert body["user"]["id"] == user_id
    assert body["user"]["email"] == f"{user_id}@example.com"
    assert body["user"]["preferences"] == {
        "comment": {
            "notificationId": "comment",
            "muteWidget": False,
            "muteEmail": False,
            "muteSMS": False,
            "mutePush": False,
        }
    }
    (notification,) = body["notifications"]
    assert notification["id"] == "comment" and notification["allowMuteEmail"] is True
    assert notification["withSMS"] is False and "templates" not in notification


def test_set_profile_ignores_email_and_telephone(client, front, user_id):
    # Given the whole user object as users.get gave it, with every field changed
    user = front.get("users.get").get_json()["user"]
    user.update(email="thief@example.com", telephone="+447911000000", firstName="Eve")
    user.update(language="fr", timezone="Europe/Paris", unknownField=1)
    # When the browser posts it back
    answer = front.post("users.setProfile", {"user": user})
    # Then only language and timezone changed
    assert answer.status_code == 200, answer.get_json()
    stored = client.get("/users.get", id=user_id).get_json()["user"]
    assert stored["email"] == f"{user_id}@example.com"
    assert stored["telephone"] == "+447911123456"
    assert stored["firstName"] is None
    assert (stored["language"], stored["timezone"]) == ("fr", "Europe/Paris")


def test_set_profile_refuses_a_bad_timezone(front):
    answer = front.post("users.setProfile", {"user": {"timezone": "Mars/Olympus"}})
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "timezone/invalid"


def test_a_muted_email_makes_the_next_send_muted(herald, client, front, user_id):
    prefs = {"comment": {"notificationId": "comment", "muteEmail": True, "muteSMS": True}}
    answer = front.post("users.setProfile", {"user": {"preferences": prefs}})
    assert answer.get_json()["user"]["preferences"]["comment"]["muteEmail"] is True
    # SMS isn't mutable on this notification: the flag is ignored
    assert answer.get_json()["user"]["preferences"]["comment"]["muteSMS"] is False
    result = comment(client, user_id)
    assert result["channels"]["email"]["status"] == "muted"
    assert result["channels"]["widget"]["status"] == "sent"


def test_a_mute_the_notification_forbids_is_ignored(client, front, user_id):
    upsert_notification(client, {**NOTIFICATION, "allowMuteEmail": False})
    prefs = {"comment": {"muteEmail": True}}
    assert front.post("users.setProfile", {"user": {"preferences": prefs}}).status_code == 200
    assert comment(client, user_id)["channels"]["email"]["status"] == "sent"


def test_cors_preflight_is_answered(herald):
    response = herald.app.test_client().options(
        "/front/messages.read",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "last-event-id" in allowed


def test_answers_carry_cors_headers(front):
    response = front.get("messages.list")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_body_that_is_not_json_is_refused(front):
    response = front.flask.post("/front/messages.readAll", data="{nope", content_type="text/plain")
    assert response.status_code == 400
    assert response.get_json()["error"] == "body/invalidJson"


# A setProfile body with `BAD` standing for the bytes under test: how each row encodes it.
BAD_ENCODINGS = {
    "invalid UTF-8": lambda text: text.encode().replace(b"BAD", b"\xff\xfe"),
    "UTF-8 surrogate": lambda text: text.encode().replace(b"BAD", b"\xed\xa0\x80"),
    "UTF-16": lambda text: text.replace("BAD", "x").encode("utf-16"),
}


@pytest.mark.parametrize("encoding", BAD_ENCODINGS)
def test_a_body_that_is_not_utf8_is_refused_and_changes_nothing(client, front, user_id, encoding):
    body = {**front.auth, "user": {"timezone": "Europe/Paris", "note": "BAD"}}
    raw = BAD_ENCODINGS[encoding](json.dumps(body))

    response = front.flask.post("/front/users.setProfile", data=raw, content_type="text/plain")

    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "body/invalidJson"
    assert client.get("/users.get", id=user_id).get_json()["user"]["timezone"] != "Europe/Paris"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["users.setProfile", "messages.read", "messages.readAll"]),
    body=st.dictionaries(
        st.sampled_from(["user", "messageId", "preferences", "language"]), json_values, max_size=3
    ),
    limit=st.text(max_size=4),
)
def test_no_input_answers_500(front, path, body, limit):
    assert front.post(path, body).status_code < 500
    if isinstance(body.get("user"), dict):
        user = {**body["user"], "preferences": {"comment": body["user"]}}
        assert front.post("users.setProfile", {"user": user}).status_code < 500
    assert front.get("messages.list", limit=limit, skip=limit).status_code < 500
