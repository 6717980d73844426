"""`messages.list` cursors: they page through the project's messages, say nothing of other
projects' activity, and one that no page of this project gave answers 400 `cursor/invalid`."""

from __future__ import annotations

import base64

import pytest

from shared.contacts.users import delete_users
from shared.infra.db import transaction
from tests.support.calls import Client, answer, send
from tests.support.data import token, widget_notification
from tests.support.herald import new_project


def sent(client: Client, *ids: str, user: str = "u") -> None:
    """Send one widget message of each id to `user` (the notification created first)."""
    answer(client.post("/notifications.upsert", widget_notification("n")))
    items = [{"id": i, "notificationId": "n", "userId": user, "data": {}} for i in ids]
    assert all(result["ok"] for result in send(client, *items))


def cursor_after(client: Client, count: int) -> str:
    """The nextCursor of the first page of `count` messages."""
    return answer(client.get("/messages.list", limit=count))["nextCursor"]


def refusal(client: Client, cursor: str) -> dict:
    return answer(client.get("/messages.list", cursor=cursor), 400)


def test_cursors_page_through_every_message_once_newest_first(client):
    ids = [f"m-{n}-{token()}" for n in range(5)]
    sent(client, *ids)
    seen, cursor = [], None
    while True:
        more = {"cursor": cursor} if cursor else {}
        page = answer(client.get("/messages.list", limit=2, **more))
        seen += [message["id"] for message in page["messages"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_a_cursor_says_nothing_of_the_other_projects_messages(herald, client):
    # Given two projects that send the same messages, one of them while a third sends many
    ids = [f"m-{n}" for n in range(3)]
    quiet = Client(herald.app, new_project(herald)["apiKey"])
    busy = Client(herald.app, new_project(herald)["apiKey"])
    sent(quiet, *ids[:2])
    sent(client, *ids[:2])
    sent(busy, *(f"b-{n}" for n in range(20)))
    sent(quiet, ids[2])
    sent(client, ids[2])
    # Then their cursors are the same: nothing in them counts the third project's messages
    assert cursor_after(quiet, 1) == cursor_after(client, 1)
    assert cursor_after(quiet, 2) == cursor_after(client, 2)


def test_a_cursor_of_another_project_is_cursor_invalid(herald, client):
    sent(client, f"mine-{token()}", f"mine-{token()}")
    cursor = cursor_after(client, 1)
    other = Client(herald.app, new_project(herald)["apiKey"])
    sent(other, f"theirs-{token()}", f"theirs-{token()}")
    assert refusal(other, cursor)["error"] == "cursor/invalid"


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b"no-such-message").decode().rstrip("="),
        base64.urlsafe_b64encode(b"a\x00b").decode().rstrip("="),
        base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),
        "bWVzc2FnZQ==",  # padded: not a form Herald gives
        "not+base64/",
        "x" * 701,
        "A",
    ],
)
def test_a_forged_cursor_is_cursor_invalid(client, cursor):
    sent(client, f"m-{token()}")
    body = refusal(client, cursor)
    assert body["error"] == "cursor/invalid"
    assert "nextCursor" in body["message"]


def test_a_cursor_whose_message_was_deleted_is_cursor_invalid(herald, client, project):
    user = f"u-{token()}"
    sent(client, f"kept-{token()}", user=f"k-{token()}")
    sent(client, f"gone-{token()}", f"gone-{token()}", user=user)
    cursor = cursor_after(client, 1)
    with transaction(herald.engine) as connection:
        delete_users(connection, project["projectId"], [user])
    assert refusal(client, cursor)["error"] == "cursor/invalid"
