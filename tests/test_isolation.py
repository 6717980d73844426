"""Project isolation: nothing of one project is visible or changeable through another's key
(SPEC §1, §3 "Reading and managing")."""

from __future__ import annotations

import pytest

from shared.infra.errors import not_found
from tests.support.calls import Client, answer, send
from tests.support.data import token, widget_notification
from tests.support.herald import new_project


@pytest.fixture
def other(herald):
    """A client of a second project, B, beside the test's own project A."""
    return Client(herald.app, new_project(herald, "other")["apiKey"])


def send_one(client, **item) -> dict:
    """Send one message and answer its result."""
    [result] = send(client, item)
    return result


def assert_not_found(response, thing: str, key: str) -> None:
    """404 with exactly the answer a thing that exists nowhere gets."""
    assert response.status_code == 404
    assert response.get_json() == not_found(thing, key).as_dict()


def test_key_of_a_reads_nothing_of_b(client, other):
    # Given a user, a notification and a message in project B
    user_id, notification_id = f"u-{token()}", f"n-{token()}"
    answer(other.post("/users.upsert", {"users": [{"id": user_id, "email": "b@example.com"}]}))
    answer(other.post("/notifications.upsert", widget_notification(notification_id)))
    sent = send_one(other, notificationId=notification_id, userId=user_id)
    assert sent["ok"] is True and sent["status"] == "sent"
    # When project A's key asks for them, it gets what it gets for things that exist nowhere
    assert_not_found(client.get("/users.get", id=user_id), "user", user_id)
    assert_not_found(
        client.get("/notifications.get", id=notification_id), "notification", notification_id
    )
    assert_not_found(client.get("/messages.get", id=sent["id"]), "message", sent["id"])
    assert_not_found(client.get("/users.get", id="nowhere"), "user", "nowhere")
    assert_not_found(client.get("/messages.get", id="nowhere"), "message", "nowhere")
    # And B still sees them
    assert answer(other.get("/messages.get", id=sent["id"]))["message"]["userId"] == user_id


def test_lists_of_a_show_only_a(client, other):
    mine, theirs = f"mine-{token()}", f"theirs-{token()}"
    answer(client.post("/notifications.upsert", widget_notification(mine)))
    answer(other.post("/notifications.upsert", widget_notification(theirs)))
    own_message = send_one(client, notificationId=mine, userId="ann")
    their_message = send_one(other, notificationId=theirs, userId="ann")
    assert own_message["ok"] and their_message["ok"]

    listed = answer(client.get("/notifications.list"))["notifications"]
    assert [n["id"] for n in listed] == [mine]
    messages = answer(client.get("/messages.list"))["messages"]
    assert [m["id"] for m in messages] == [own_message["id"]]
    assert answer(client.get("/messages.list", notificationId=theirs))["messages"] == []
    assert answer(client.get("/messages.list", userId="ann"))["messages"] == messages
    assert [m["id"] for m in answer(other.get("/messages.list"))["messages"]] == [
        their_message["id"]
    ]


def test_user_upsert_in_a_leaves_b_user_of_the_same_id_as_it_was(client, other):
    user_id = f"u-{token()}"
    answer(
        other.post(
            "/users.upsert",
            {
                "users": [
                    {
                        "id": user_id,
                        "email": "b@example.com",
                        "firstName": "Bea",
                        "data": {"plan": "pro"},
                    }
                ]
            },
        )
    )
    before = answer(other.get("/users.get", id=user_id))["user"]
    # When A upserts a user with the same id
    results = answer(
        client.post(
            "/users.upsert",
            {"users": [{"id": user_id, "email": "a@example.com", "firstName": None, "data": {}}]},
        )
    )["results"]
    # Then A gets a new user of its own, and B's is untouched
    assert results == [{"id": user_id, "ok": True, "created": True}]
    assert answer(other.get("/users.get", id=user_id))["user"] == before
    mine = answer(client.get("/users.get", id=user_id))["user"]
    assert mine["email"] == "a@example.com" and mine["firstName"] is None


def test_notification_upsert_in_a_leaves_b_notification_of_the_same_id_as_it_was(client, other):
    notification_id = f"n-{token()}"
    before = answer(
        other.post("/notifications.upsert", widget_notification(notification_id, "B's"))
    )["notification"]
    created = answer(client.post("/notifications.upsert", {"id": notification_id, "name": "A's"}))[
        "notification"
    ]
    assert created["name"] == "A's" and created["withWidget"] is False
    assert answer(other.get("/notifications.get", id=notification_id))["notification"] == before


def test_deletes_with_a_key_leave_b_things_intact(client, other):
    user_id, notification_id = f"u-{token()}", f"n-{token()}"
    answer(other.post("/users.upsert", {"users": [{"id": user_id}]}))
    answer(other.post("/notifications.upsert", widget_notification(notification_id)))
    sent = send_one(other, notificationId=notification_id, userId=user_id)

    deleted = answer(client.post("/users.delete", {"ids": [user_id]}))["results"]
    assert deleted == [{"id": user_id, "ok": True, "deleted": False}]
    assert_not_found(
        client.post("/notifications.delete", {"id": notification_id}),
        "notification",
        notification_id,
    )

    assert answer(other.get("/users.get", id=user_id))["user"]["id"] == user_id
    assert answer(other.get("/notifications.get", id=notification_id))["notification"]["id"] == (
        notification_id
    )
    assert answer(other.get("/messages.get", id=sent["id"]))["message"]["id"] == sent["id"]


def test_a_cannot_send_with_a_notification_of_b(client, other):
    notification_id, user_id = f"n-{token()}", f"u-{token()}"
    answer(other.post("/notifications.upsert", widget_notification(notification_id)))
    result = send_one(client, notificationId=notification_id, userId=user_id)
    assert result["ok"] is False
    assert result["error"] == "notificationId/notFound"
    assert answer(client.get("/messages.list"))["messages"] == []


def test_message_id_used_in_b_is_free_in_a(client, other):
    # Given a message of B with a chosen id
    message_id = f"m-{token()}"
    answer(other.post("/notifications.upsert", widget_notification("n", "For B")))
    answer(client.post("/notifications.upsert", widget_notification("n", "For A")))
    assert send_one(other, id=message_id, notificationId="n", userId="u")["ok"] is True
    # When A sends with the same id, it is not told the id exists (that would leak B's ids)
    result = send_one(client, id=message_id, notificationId="n", userId="u")
    assert result["ok"] is True and result["id"] == message_id
    # Then each project sees its own message under that id
    assert answer(client.get("/messages.get", id=message_id))["message"]["widget"]["content"] == (
        "For A"
    )
    assert answer(other.get("/messages.get", id=message_id))["message"]["widget"]["content"] == (
        "For B"
    )
