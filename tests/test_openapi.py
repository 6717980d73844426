"""GET /openapi.json describes what the app serves; GET /docs renders it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared import sending
from shared.db import transaction
from shared.users import delete_users
from tests.conftest import token

IMPLICIT_METHODS = {"HEAD", "OPTIONS"}  # Flask adds these to every rule


def openapi(herald) -> dict:
    response = herald.app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def test_openapi_describes_exactly_the_registered_routes(herald):
    spec = openapi(herald)
    described = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    registered = {
        (method, rule.rule)
        for rule in herald.app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - IMPLICIT_METHODS
    }
    assert described == registered


def test_docs_page_answers_html_that_loads_the_openapi(herald):
    response = herald.app.test_client().get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "/openapi.json" in page
    assert "http://" not in page and "https://" not in page  # no CDN, nothing external


def test_openapi_is_a_valid_openapi_3_1_document(herald):
    validator = pytest.importorskip("openapi_spec_validator")
    spec = openapi(herald)
    assert spec["openapi"].startswith("3.1")
    validator.validate(spec)


class Conformance:
    """Checks answers against the operation the OpenAPI describes for their path and method."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.jsonschema = pytest.importorskip("jsonschema")

    def validate(self, schema: dict, body) -> None:
        # The refs are `#/components/...`: give the schema the document's components.
        self.jsonschema.Draft202012Validator(
            {**schema, "components": self.spec["components"]}
        ).validate(body)

    def check(self, method: str, path: str, response) -> dict:
        """The body, after checking it against the described answer of its status."""
        body = response.get_json()
        operation = self.spec["paths"].get(path, {}).get(method)
        if operation is None:  # an unserved route or method: the plain error JSON
            self.validate({"$ref": "#/components/schemas/Error"}, body)
            return body
        described = operation["responses"].get(str(response.status_code))
        assert described is not None, (method, path, response.status_code, body)
        self.validate(described["content"]["application/json"]["schema"], body)
        if response.status_code >= 400:
            codes = {row["code"] for row in operation["x-error-codes"]}
            assert body["error"] in codes or (
                "<field>/unknown" in codes and body["error"].endswith("/unknown")
            ), body
        for result in body.get("results", []) if response.status_code == 200 else []:
            if not result["ok"] and "error" in result:
                codes = {row["code"] for row in operation["x-item-error-codes"]}
                assert result["error"] in codes or (
                    "<field>/unknown" in codes and result["error"].endswith("/unknown")
                ), result
        return body


def test_answers_match_the_openapi(herald, client):
    api = Conformance(openapi(herald))
    anonymous = herald.app.test_client()
    notification_id, broken_id, user_id = f"n-{token()}", f"b-{token()}", f"u-{token()}"

    def post(path, body=None, **kwargs):
        return api.check("post", path, client.post(path, body, **kwargs))

    def get(path, **params):
        return api.check("get", path, client.get(path, **params))

    # Notifications
    post(
        "/notifications.upsert",
        {
            "id": notification_id,
            "name": "Order shipped",
            "withWidget": True,
            "withEmail": True,
            "templates": {
                "en": {
                    "widget": {"content": "Order {{ orderId }} ({{ increment }})"},
                    "email": {"subject": "Order {{ orderId }}", "text": "Shipped."},
                }
            },
        },
    )
    post(
        "/notifications.upsert",
        {
            "id": broken_id,
            "name": "Broken",
            "withWidget": True,
            "templates": {"en": {"widget": {"content": "{{ missing.attr }}"}}},
        },
    )
    for templates, code in (
        ({"en": {"widget": {"content": "{% if %}"}}}, "template/invalid"),
        ({"en": {"push": {}}}, "templates/invalid"),
        ({"en": {}, "EN": {}}, "templates/invalid"),
    ):
        body = {"id": "x", "name": "X", "templates": templates}
        assert post("/notifications.upsert", body)["error"] == code
    body = {"id": "x", "name": "X", "colour": "red"}
    assert post("/notifications.upsert", body)["error"] == "colour/unknown"
    for email in ({"from": "not-an-address"}, {"replyTo": "a@b.test"}, {"fromName": "x" * 201}):
        body = {"id": "x", "name": "X", "templates": {"en": {"email": email}}}
        assert post("/notifications.upsert", body)["error"] == "templates/invalid"
    get("/notifications.list")
    get("/notifications.get", id=notification_id)
    assert get("/notifications.get", id="nope")["error"] == "notification/notFound"
    assert get("/notifications.get")["error"] == "id/required"

    # Users
    results = post(
        "/users.upsert",
        {
            "users": [
                {"id": user_id, "email": "ann@example.com", "preferences": {notification_id: {}}},
                {"id": "bad", "telephone": "07911"},
                {"id": "bad", "preferences": {"a": {"muteFax": True}}},
            ]
        },
    )["results"]
    assert [r["ok"] for r in results] == [True, False, False]
    assert results[2]["error"] == "preferences/invalid"
    assert "preferences.a.muteFax" in results[2]["message"]
    get("/users.get", id=user_id)
    cleared = f"c-{token()}"
    post("/users.upsert", {"users": [{"id": cleared, "preferences": {notification_id: {}}}]})
    post("/users.upsert", {"users": [{"id": cleared, "preferences": None}]})
    assert get("/users.get", id=cleared)["user"]["preferences"] == {}
    assert get("/users.get", id="nope")["error"] == "user/notFound"

    # Messages
    first = f"m-{token()}"
    results = post(
        "/messages.send",
        {
            "messages": [
                {
                    "notificationId": notification_id,
                    "userId": user_id,
                    "id": first,
                    "incrementId": "orders",
                    "data": {"orderId": 1},
                },
                {"notificationId": notification_id, "userId": user_id, "incrementId": "orders"},
                {
                    "notificationId": notification_id,
                    "userId": user_id,
                    "sendAt": (datetime.now(UTC) + timedelta(days=300)).isoformat(),
                },
                {"notificationId": notification_id, "userId": user_id, "id": first},
                {"notificationId": "nope", "userId": user_id},
                {"notificationId": notification_id, "userId": user_id, "colour": "red"},
                {"notificationId": broken_id, "userId": user_id},
                {
                    "notificationId": notification_id,
                    "userId": user_id,
                    "emailSettingsOverride": {"foo": "bar"},
                },
                {
                    "notificationId": notification_id,
                    "userId": user_id,
                    "emailSettingsOverride": {"replyTo": "a@b.test"},
                },
            ]
        },
    )["results"]
    assert [r["status"] for r in results][1:] == [
        "incremented",
        "scheduled",
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
    ]
    assert results[1]["channels"] == {}
    assert results[2]["channels"] == {
        "email": {"status": "pending"},
        "widget": {"status": "pending"},
    }
    assert results[3]["error"] == "id/exists"
    assert [results[i]["error"] for i in (4, 5)] == ["notificationId/notFound", "colour/unknown"]
    assert all(results[i]["channels"] == {} for i in (3, 4, 5, 7, 8))
    assert results[6]["error"] == "template/renderFailed"
    assert [r["error"] for r in results[7:]] == ["emailSettingsOverride/invalid"] * 2
    assert "emailSettingsOverride.foo" in results[7]["message"]
    message = get("/messages.get", id=first)["message"]
    if message["status"] == "sent":  # rendered: the language picked for the user is recorded
        assert message["language"] == "en"
    assert get("/messages.get", id=results[2]["id"])["message"]["language"] is None
    assert get("/messages.get", id="nope")["error"] == "message/notFound"
    page = get("/messages.list", limit=1)
    get("/messages.list", limit=1, cursor=page["nextCursor"], userId=user_id, status="sent")
    assert get("/messages.list", limit=0)["error"] == "limit/invalid"
    assert get("/messages.list", limit="x")["error"] == "query/invalid"
    assert get("/messages.list", status="read")["error"] == "status/invalid"

    # Request-level errors
    assert post("/users.upsert", data="{")["error"] == "body/invalidJson"
    assert post("/users.upsert", [])["error"] == "body/invalid"
    assert post("/users.upsert", data='{"users": [{"id": NaN}]}')["error"] == "body/invalidJson"
    assert post("/users.upsert", data="[" * 100_000 + "]" * 100_000)["error"] == "body/invalidJson"
    nul = '{"users": [{"id": "a\\u0000b"}]}'
    assert post("/users.upsert", data=nul)["error"] == "body/invalid"
    assert post("/messages.send", data=nul.replace("users", "messages"))["error"] == "body/invalid"
    assert post("/messages.send", {"messages": []})["error"] == "batch/empty"
    assert (
        post("/users.upsert", {"users": [{"id": str(i)} for i in range(101)]})["error"]
        == "batch/tooLarge"
    )
    assert post("/users.upsert", data="x" * (1024 * 1024 + 1))["error"] == "body/tooLarge"
    assert post("/users.delete", {"ids": [""]})["error"] == "ids/invalid"
    assert (
        api.check("post", "/users.upsert", anonymous.post("/users.upsert"))["error"]
        == "auth/missing"
    )
    assert (
        api.check(
            "get",
            "/users.get",
            anonymous.get("/users.get", headers={"Authorization": "Bearer hk_unknown"}),
        )["error"]
        == "auth/invalid"
    )
    assert api.check("get", "/nowhere", anonymous.get("/nowhere"))["error"] == "route/notFound"
    assert (
        api.check("get", "/messages.send", anonymous.get("/messages.send"))["error"]
        == "method/notAllowed"
    )

    # Deletes, then operations
    post("/users.delete", {"ids": [user_id, "nope"]})
    assert post("/notifications.delete", {"id": 5})["error"] == "id/invalid"
    assert post("/notifications.delete", {})["error"] == "id/required"
    assert post("/notifications.delete", data='{"id": Infinity}')["error"] == "body/invalidJson"
    post("/notifications.delete", {"id": notification_id})
    assert (
        post("/notifications.delete", {"id": notification_id})["error"] == "notification/notFound"
    )
    for path in ("/healthz", "/readyz"):
        api.check("get", path, anonymous.get(path))


def test_a_message_deleted_before_its_result_answers_as_described(
    herald, client, project, monkeypatch
):
    """Its user deleted between acceptance and delivery: `message/notFound` with the caller's id."""
    api = Conformance(openapi(herald))
    notification_id, user_id, message_id = f"n-{token()}", f"u-{token()}", f"m-{token()}"
    body = {
        "id": notification_id,
        "name": "N",
        "withWidget": True,
        "templates": {"en": {"widget": {"content": "Hi"}}},
    }
    api.check("post", "/notifications.upsert", client.post("/notifications.upsert", body))
    enqueue = sending._enqueue

    def delete_then_enqueue(broker, accepted):
        with transaction(herald.engine) as connection:
            delete_users(connection, project["projectId"], [user_id])
        return enqueue(broker, accepted)

    monkeypatch.setattr(sending, "_enqueue", delete_then_enqueue)
    item = {"notificationId": notification_id, "userId": user_id, "id": message_id}
    response = client.post("/messages.send", {"messages": [item]})
    assert response.status_code == 200
    (result,) = api.check("post", "/messages.send", response)["results"]
    assert result == {
        "id": message_id,
        "ok": False,
        "status": "failed",
        "error": "message/notFound",
        "message": result["message"],
        "channels": {},
    }
