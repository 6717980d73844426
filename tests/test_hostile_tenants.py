"""Hostile input across tenants and methods: another project's ids, users and senders, and
wrong methods."""

from __future__ import annotations

import pytest

from shared.infra.db import transaction
from shared.tenancy.projects import create_project
from tests.support.calls import Client, send, upsert_notification
from tests.support.data import notification, token, widget_notification
from tests.support.health import assert_still_answering
from tests.support.herald import new_project


@pytest.fixture
def other(herald):
    """Another project with a user, a notification and a message of its own."""
    created = new_project(herald, "other")
    theirs = Client(herald.app, created["apiKey"])
    upsert_notification(theirs, widget_notification("theirs"))
    [result] = send(theirs, {"notificationId": "theirs", "userId": "their-user", "id": "their-msg"})
    assert result["ok"], result
    return theirs


# (what, request made with this project's key naming the other's things, status, error)
FOREIGN = [
    ("message id", ("get", "/messages.get", {"id": "their-msg"}), 404, "message/notFound"),
    ("user id", ("get", "/users.get", {"id": "their-user"}), 404, "user/notFound"),
    (
        "notification id",
        ("get", "/notifications.get", {"id": "theirs"}),
        404,
        "notification/notFound",
    ),
    (
        "notification delete",
        ("post", "/notifications.delete", {"id": "theirs"}),
        404,
        "notification/notFound",
    ),
    (
        "notification sent to",
        ("post", "/messages.send", {"messages": [{"notificationId": "theirs", "userId": "x"}]}),
        200,
        "notificationId/notFound",
    ),
    (
        "sender",
        (
            "post",
            "/messages.send",
            {
                "messages": [
                    {
                        "notificationId": "theirs",
                        "userId": "x",
                        "emailSettingsOverride": {"from": "sender@herald.example.com"},
                    }
                ]
            },
        ),
        200,
        "notificationId/notFound",
    ),
]


@pytest.mark.parametrize(("what", "call", "status", "error"), FOREIGN, ids=[r[0] for r in FOREIGN])
def test_another_projects_ids_are_not_found_and_nothing_changes(
    herald, client, other, what, call, status, error
):
    method, path, payload = call
    response = client.get(path, **payload) if method == "get" else client.post(path, payload)

    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert (body["results"][0]["error"] if status == 200 else body["error"]) == error
    assert other.get("/messages.get", id="their-msg").get_json()["message"]["status"] == "sent"
    assert other.get("/users.get", id="their-user").status_code == 200
    assert other.get("/notifications.get", id="theirs").status_code == 200
    assert_still_answering(herald)


def test_deleting_another_projects_user_deletes_nothing(herald, client, other):
    response = client.post("/users.delete", {"ids": ["their-user"]})

    assert response.get_json()["results"] == [{"id": "their-user", "ok": True, "deleted": False}]
    assert other.get("/users.get", id="their-user").status_code == 200
    assert other.get("/messages.get", id="their-msg").status_code == 200


def test_another_projects_sender_in_an_override_is_refused(herald, client):
    with transaction(herald.engine) as connection:
        create_project(connection, f"b-{token()}", "alerts@project-b.example.net", "B", "B")
    upsert_notification(client, notification())
    message_id = f"m-{token()}"
    item = {"notificationId": "welcome", "userId": f"u-{token()}", "id": message_id}

    [result] = send(
        client, {**item, "emailSettingsOverride": {"from": "alerts@project-b.example.net"}}
    )

    assert (result["ok"], result["error"]) == (False, "template/senderNotAllowed")
    assert client.get("/messages.get", id=message_id).status_code == 404
    assert_still_answering(herald)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("get", "/messages.send", "POST"), ("post", "/users.get", "GET")],
)
def test_a_wrong_method_answers_405_with_allow(herald, client, method, path, allowed):
    response = client.flask.open(path, method=method.upper(), headers=client._headers(None))

    assert response.status_code == 405
    assert response.get_json()["error"] == "method/notAllowed"
    assert allowed in response.headers["Allow"]
    assert_still_answering(herald)
