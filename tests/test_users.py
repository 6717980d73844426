"""users.upsert, users.get, users.delete (SPEC §3)."""

from __future__ import annotations

import pytest

from tests.support.calls import Client, upsert_users
from tests.support.data import phone, token


def get_user(client, user_id):
    response = client.get("/users.get", id=user_id)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["user"]


def test_upsert_creates_then_updates_only_present_fields(client):
    user_id = f"u-{token()}"
    number = phone()
    # Given a new user with several profile fields
    first = upsert_users(
        client,
        {
            "id": user_id,
            "email": "ann@example.com",
            "telephone": number,
            "firstName": "Ann",
            "language": "pt-br",
            "timezone": "Europe/London",
            "country": "gb",
            "data": {"plan": "pro"},
        },
    )
    assert first == [{"id": user_id, "ok": True, "created": True}]
    # When a second upsert sends only the last name and clears the telephone
    second = upsert_users(client, {"id": user_id, "lastName": "Lee", "telephone": None})
    assert second == [{"id": user_id, "ok": True, "created": False}]
    # Then present fields changed, the null one is cleared, absent ones are as they were
    user = get_user(client, user_id)
    assert user["lastName"] == "Lee"
    assert user["telephone"] is None
    assert user["email"] == "ann@example.com"
    assert user["firstName"] == "Ann"
    assert user["language"] == "pt-BR"
    assert user["country"] == "GB"
    assert user["timezone"] == "Europe/London"
    assert user["data"] == {"plan": "pro"}


def test_preferences_replace_named_entries_and_keep_others(client):
    user_id = f"u-{token()}"
    upsert_users(
        client, {"id": user_id, "preferences": {"a": {"muteEmail": True}, "b": {"muteSMS": True}}}
    )
    upsert_users(client, {"id": user_id, "preferences": {"a": {"muteWidget": True}}})
    prefs = get_user(client, user_id)["preferences"]
    assert prefs["a"] == {
        "notificationId": "a",
        "muteWidget": True,
        "muteEmail": False,
        "muteSMS": False,
        "mutePush": False,
    }
    assert prefs["b"]["muteSMS"] is True


def test_hundred_users_accepted_and_hundred_and_one_refused(client):
    base = token()
    users = [{"id": f"{base}-{i}", "email": f"user{i}@example.com"} for i in range(101)]
    results = upsert_users(client, *users[:100])
    assert len(results) == 100 and all(r["ok"] and r["created"] for r in results)
    response = client.post("/users.upsert", {"users": [{"id": f"{base}-x{i}"} for i in range(101)]})
    assert response.status_code == 400
    assert response.get_json()["error"] == "batch/tooLarge"
    assert client.get("/users.get", id=f"{base}-x0").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("telephone", "07911123456", "telephone/invalid"),
        ("telephone", "+1555", "telephone/invalid"),
        ("email", "not-an-email", "email/invalid"),
        ("timezone", "Mars/Olympus", "timezone/invalid"),
        ("language", "xx-QQ", "language/invalid"),
        ("country", "XX", "country/invalid"),
        ("data", ["not", "an", "object"], "data/invalid"),
        ("firstName", 12, "firstName/invalid"),
        ("nickname", "Al", "nickname/unknown"),
    ],
)
def test_a_bad_field_fails_that_item_only(client, field, value, code):
    good, bad = f"good-{token()}", f"bad-{token()}"
    results = upsert_users(
        client, {"id": good, "email": "ok@example.com"}, {"id": bad, field: value}
    )
    assert results[0] == {"id": good, "ok": True, "created": True}
    assert results[1]["ok"] is False
    assert results[1]["error"] == code
    assert results[1]["message"]
    assert client.get("/users.get", id=bad).status_code == 404


def test_missing_id_is_refused_per_item(client):
    results = upsert_users(client, {"email": "a@example.com"}, {"id": ""})
    assert [r["error"] for r in results] == ["id/required", "id/required"]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"{not json", 400, "body/invalidJson"),
        (b"[1, 2]", 400, "body/invalid"),
        (b'{"users": {}}', 400, "body/invalid"),
        (b'{"users": []}', 400, "batch/empty"),
    ],
)
def test_malformed_bodies_answer_their_code_and_change_nothing(client, data, status, code):
    response = client.post("/users.upsert", data=data)
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == code and body["message"]


def test_body_over_one_mebibyte_is_413(client):
    user_id = f"big-{token()}"
    big = {"users": [{"id": user_id, "data": {"blob": "x" * (1024 * 1024)}}]}
    response = client.post("/users.upsert", big)
    assert response.status_code == 413
    assert response.get_json()["error"] == "body/tooLarge"
    assert client.get("/users.get", id=user_id).status_code == 404


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "auth/missing"),
        ({"Authorization": "Bearer hk_not-a-key"}, "auth/invalid"),
        ({"Authorization": "Basic abc"}, "auth/invalid"),
    ],
)
def test_missing_or_wrong_key_is_401_and_changes_nothing(herald, client, headers, code):
    user_id = f"u-{token()}"
    anonymous = Client(herald.app, None)
    response = anonymous.post("/users.upsert", {"users": [{"id": user_id}]}, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == code
    assert client.get("/users.get", id=user_id).status_code == 404


def test_revoked_key_is_refused(herald, project):
    from shared.infra.db import transaction
    from shared.tenancy.projects import revoke_key

    with transaction(herald.engine) as connection:
        assert revoke_key(connection, project["apiKey"])
    response = Client(herald.app, project["apiKey"]).get("/users.get", id="x")
    assert response.status_code == 401
    assert response.get_json()["error"] == "auth/invalid"


def test_users_delete_removes_profile_and_messages(client):
    user_id = f"u-{token()}"
    upsert_users(client, {"id": user_id})
    response = client.post("/users.delete", {"ids": [user_id, "nobody"]})
    assert response.get_json()["results"] == [
        {"id": user_id, "ok": True, "deleted": True},
        {"id": "nobody", "ok": True, "deleted": False},
    ]
    assert client.get("/users.get", id=user_id).get_json()["error"] == "user/notFound"


def test_unknown_route_is_json_404(client):
    response = client.get("/nothing.here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "route/notFound"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"users": [{"id": "u", "data": {"x": NaN}}]}', "body/invalidJson"),
        (b'{"users": [{"id": "u", "data": {"x": Infinity}}]}', "body/invalidJson"),
        (b"[" * 100_000 + b"]" * 100_000, "body/invalidJson"),
        (b'{"users": [{"id": "u\\u0000", "firstName": "A"}]}', "body/invalid"),
        (b'{"users": [{"id": "u", "data": {"k": "a\\u0000b"}}]}', "body/invalid"),
    ],
)
def test_bodies_json_cannot_carry_are_refused_not_stored(client, data, code):
    response = client.post("/users.upsert", data=data)
    assert response.status_code == 400
    assert response.get_json()["error"] == code


def test_an_escaped_backslash_before_u0000_is_plain_text(client):
    user_id = f"u-{token()}"
    response = client.post(
        "/users.upsert",
        data=b'{"users": [{"id": "%s", "data": {"path": "C:\\\\u0000"}}]}' % user_id.encode(),
    )
    assert response.status_code == 200, response.get_json()
    assert get_user(client, user_id)["data"] == {"path": "C:\\u0000"}


def test_preferences_sent_as_null_are_cleared(client):
    user_id = f"u-{token()}"
    upsert_users(client, {"id": user_id, "preferences": {"a": {"muteEmail": True}}})
    upsert_users(client, {"id": user_id, "preferences": None})
    assert get_user(client, user_id)["preferences"] == {}


def test_unknown_field_inside_preferences_names_its_path(client):
    [result] = upsert_users(client, {"id": f"u-{token()}", "preferences": {"a": {"muteFax": True}}})
    assert result["error"] == "preferences/invalid"
    assert "preferences.a.muteFax" in result["message"]
