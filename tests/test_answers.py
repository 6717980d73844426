"""Every answer, of success and of each error, matches what the OpenAPI describes for its path,
method and status, and names an error code the operation lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.contacts.users import delete_users
from shared.infra.db import transaction
from tests.support.calls import Client, openapi, send
from tests.support.data import token, widget_notification
from tests.support.herald import swapped


def case(name: str, method: str, path: str, code: str, **request):
    """One request (`body`, `data` or `params`) and the error code it must answer."""
    return pytest.param(method, path, request, code, id=name)


def refused_upsert(name: str, templates: dict, code: str = "templates/invalid"):
    """A notifications.upsert refused for its templates."""
    body = {"id": "x", "name": "X", "templates": templates}
    return case(name, "post", "/notifications.upsert", code, body=body)


def later() -> str:
    """A sendAt well in the future yet inside the 365 days Herald schedules ahead."""
    return (datetime.now(UTC) + timedelta(days=300)).isoformat()


NUL = '{"users": [{"id": "a\\u0000b"}]}'
ERROR_CASES = [
    refused_upsert("syntax", {"en": {"widget": {"content": "{% if %}"}}}, "template/invalid"),
    refused_upsert("unknown-channel", {"en": {"fax": {}}}),
    refused_upsert("language-twice", {"en": {}, "EN": {}}),
    refused_upsert("bad-from", {"en": {"email": {"from": "not-an-address"}}}),
    refused_upsert("reply-to-alone", {"en": {"email": {"replyTo": "a@b.test"}}}),
    refused_upsert("long-from-name", {"en": {"email": {"fromName": "x" * 201}}}),
    case("unknown-field", "post", "/notifications.upsert", "colour/unknown",
         body={"id": "x", "name": "X", "colour": "red"}),
    case("unknown-notification", "get", "/notifications.get", "notification/notFound",
         params={"id": "nope"}),
    case("notification-without-id", "get", "/notifications.get", "id/required"),
    case("unknown-user", "get", "/users.get", "user/notFound", params={"id": "nope"}),
    case("unknown-message", "get", "/messages.get", "message/notFound", params={"id": "nope"}),
    case("limit-zero", "get", "/messages.list", "limit/invalid", params={"limit": 0}),
    case("limit-not-a-number", "get", "/messages.list", "query/invalid", params={"limit": "x"}),
    case("unknown-status", "get", "/messages.list", "status/invalid", params={"status": "read"}),
    case("broken-json", "post", "/users.upsert", "body/invalidJson", data="{"),
    case("body-not-an-object", "post", "/users.upsert", "body/invalid", body=[]),
    case("nan", "post", "/users.upsert", "body/invalidJson", data='{"users": [{"id": NaN}]}'),
    case("nested-too-deep", "post", "/users.upsert", "body/invalidJson",
         data="[" * 100_000 + "]" * 100_000),
    case("nul-in-users", "post", "/users.upsert", "body/invalid", data=NUL),
    case("nul-in-messages", "post", "/messages.send", "body/invalid",
         data=NUL.replace("users", "messages")),
    case("empty-batch", "post", "/messages.send", "batch/empty", body={"messages": []}),
    case("batch-too-large", "post", "/users.upsert", "batch/tooLarge",
         body={"users": [{"id": str(i)} for i in range(101)]}),
    case("body-too-large", "post", "/users.upsert", "body/tooLarge", data="x" * (1024 * 1024 + 1)),
    case("empty-id-to-delete", "post", "/users.delete", "ids/invalid", body={"ids": [""]}),
    case("id-not-a-string", "post", "/notifications.delete", "id/invalid", body={"id": 5}),
    case("delete-without-id", "post", "/notifications.delete", "id/required", body={}),
    case("infinity", "post", "/notifications.delete", "body/invalidJson", data='{"id": Infinity}'),
    case("webhook-on-loopback", "post", "/webhooks.upsert", "url/private",
         body={"url": "https://127.0.0.1/hook", "events": ["*"]}),
    case("webhook-unknown-event", "post", "/webhooks.upsert", "events/unknown",
         body={"url": "https://8.8.8.8/hook", "events": ["message.exploded"]}),
    case("webhook-unknown-field", "post", "/webhooks.upsert", "secret/unknown",
         body={"url": "https://8.8.8.8/hook", "events": ["*"], "secret": "x"}),
    case("unknown-webhook", "post", "/webhooks.test", "webhook/notFound", body={"id": "nope"}),
    case("webhook-id-not-a-string", "post", "/webhooks.delete", "id/invalid", body={"id": 5}),
    case("unknown-webhook-deliveries", "get", "/webhooks.deliveries", "webhook/notFound",
         params={"id": "nope"}),
    case("deliveries-limit", "get", "/webhooks.deliveries", "limit/invalid",
         params={"id": "x", "limit": 0}),
]  # fmt: skip

ANONYMOUS_CASES = [
    pytest.param("post", "/users.upsert", {}, "auth/missing", id="no-key"),
    pytest.param("get", "/users.get", {"Authorization": "Bearer hk_unknown"}, "auth/invalid",
                 id="unknown-key"),
    pytest.param("get", "/nowhere", {}, "route/notFound", id="unknown-route"),
    pytest.param("get", "/messages.send", {}, "method/notAllowed", id="wrong-method"),
]  # fmt: skip


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
            self.assert_listed(body, operation["x-error-codes"])
        for result in body.get("results", []) if response.status_code == 200 else []:
            if not result["ok"] and "error" in result:
                self.assert_listed(result, operation["x-item-error-codes"])
        return body

    @staticmethod
    def assert_listed(answer: dict, listed: list[dict]) -> None:
        """The answer's error code is one the operation lists (`<field>/unknown` for any field)."""
        codes = {row["code"] for row in listed}
        error = answer["error"]
        assert error in codes or ("<field>/unknown" in codes and error.endswith("/unknown")), answer


class Caller:
    """A client whose every answer is checked against the OpenAPI."""

    def __init__(self, api: Conformance, client: Client) -> None:
        self.api, self.client = api, client

    def post(self, path: str, body=None, **kwargs) -> dict:
        return self.api.check("post", path, self.client.post(path, body, **kwargs))

    def get(self, path: str, **params) -> dict:
        return self.api.check("get", path, self.client.get(path, **params))


@pytest.fixture
def api(herald) -> Conformance:
    return Conformance(openapi(herald))


@pytest.fixture
def caller(api, client) -> Caller:
    return Caller(api, client)


@pytest.fixture
def ids(caller) -> dict[str, str]:
    """A notification on the widget and e-mail, one whose template fails, and a user."""
    made = {"notification": f"n-{token()}", "broken": f"b-{token()}", "user": f"u-{token()}"}
    english = {
        "widget": {"content": "Order {{ orderId }} ({{ increment }})"},
        "email": {"subject": "Order {{ orderId }}", "text": "Shipped."},
    }
    body = {"name": "Order shipped", "withWidget": True, "withEmail": True}
    caller.post(
        "/notifications.upsert", {"id": made["notification"], **body, "templates": {"en": english}}
    )
    caller.post("/notifications.upsert", widget_notification(made["broken"], "{{ missing() }}"))
    user = {"id": made["user"], "email": "ann@example.com"}
    caller.post("/users.upsert", {"users": [{**user, "preferences": {made["notification"]: {}}}]})
    return made


@pytest.mark.parametrize(("method", "path", "request_", "code"), ERROR_CASES)
def test_an_error_answer_matches_the_openapi(caller, method, path, request_, code):
    if method == "post":
        answer = caller.post(path, request_.get("body"), data=request_.get("data"))
    else:
        answer = caller.get(path, **request_.get("params", {}))
    assert answer["error"] == code


@pytest.mark.parametrize(("method", "path", "headers", "code"), ANONYMOUS_CASES)
def test_an_answer_without_a_valid_key_matches_the_openapi(
    herald, api, method, path, headers, code
):
    anonymous = herald.app.test_client()
    response = getattr(anonymous, method)(path, headers=headers)
    assert api.check(method, path, response)["error"] == code


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_operations_answers_match_the_openapi(herald, api, path):
    api.check("get", path, herald.app.test_client().get(path))


def test_notifications_answers_match_the_openapi(caller, ids):
    listed = caller.get("/notifications.list")["notifications"]
    assert ids["notification"] in [n["id"] for n in listed]
    assert caller.get("/notifications.get", id=ids["notification"])["notification"]["withEmail"]
    caller.post("/notifications.delete", {"id": ids["notification"]})
    again = caller.post("/notifications.delete", {"id": ids["notification"]})
    assert again["error"] == "notification/notFound"


def test_users_answers_match_the_openapi(caller, ids):
    bad_preferences = {"id": "bad", "preferences": {"a": {"muteFax": True}}}
    users = [{"id": ids["user"]}, {"id": "bad", "telephone": "07911"}, bad_preferences]
    results = caller.post("/users.upsert", {"users": users})["results"]
    assert [r["ok"] for r in results] == [True, False, False]
    assert results[2]["error"] == "preferences/invalid"
    assert "preferences.a.muteFax" in results[2]["message"]
    assert caller.get("/users.get", id=ids["user"])["user"]["email"] == "ann@example.com"
    caller.post("/users.upsert", {"users": [{"id": ids["user"], "preferences": None}]})
    assert caller.get("/users.get", id=ids["user"])["user"]["preferences"] == {}
    caller.post("/users.delete", {"ids": [ids["user"], "nope"]})


def test_send_results_match_the_openapi(caller, ids):
    base = {"notificationId": ids["notification"], "userId": ids["user"]}
    first = {**base, "id": f"m-{token()}", "incrementId": "orders", "data": {"orderId": 1}}
    results = caller.post(
        "/messages.send",
        {
            "messages": [
                first,
                {**base, "incrementId": "orders"},
                {**base, "sendAt": later()},
                {**base, "id": first["id"]},
                {**base, "notificationId": "nope"},
                {**base, "colour": "red"},
                {**base, "notificationId": ids["broken"]},
                {**base, "emailSettingsOverride": {"foo": "bar"}},
                {**base, "emailSettingsOverride": {"replyTo": "a@b.test"}},
            ]
        },
    )["results"]
    statuses = [r["status"] for r in results][1:]
    assert statuses == ["incremented", "scheduled"] + ["failed"] * 6
    assert results[1]["channels"] == {}
    pending = {"status": "pending"}
    assert results[2]["channels"] == {"email": pending, "widget": pending}
    assert results[3]["error"] == "id/exists"
    assert [results[i]["error"] for i in (4, 5)] == ["notificationId/notFound", "colour/unknown"]
    assert all(results[i]["channels"] == {} for i in (3, 4, 5, 7, 8))
    assert results[6]["error"] == "template/renderFailed"
    assert [r["error"] for r in results[7:]] == ["emailSettingsOverride/invalid"] * 2
    assert "emailSettingsOverride.foo" in results[7]["message"]


def test_messages_answers_match_the_openapi(caller, ids):
    item = {"notificationId": ids["notification"], "userId": ids["user"], "data": {"orderId": 1}}
    sent, scheduled = send(caller.client, item, {**item, "sendAt": later()})
    message = caller.get("/messages.get", id=sent["id"])["message"]
    if message["status"] == "sent":  # rendered: the language picked for the user is recorded
        assert message["language"] == "en"
    assert caller.get("/messages.get", id=scheduled["id"])["message"]["language"] is None
    page = caller.get("/messages.list", limit=1)
    assert page["nextCursor"]
    query = {"userId": ids["user"], "status": "sent"}
    caller.get("/messages.list", limit=1, cursor=page["nextCursor"], **query)


class DeletingBroker:
    """The app's broker, but the message's user is deleted just before each job is enqueued:
    a delete that lands between a message's acceptance and its delivery."""

    def __init__(self, broker, delete) -> None:
        self.broker, self.delete = broker, delete

    def enqueue(self, message, **kwargs):
        self.delete()
        return self.broker.enqueue(message, **kwargs)

    def enqueue_all(self, messages):
        return [self.enqueue(message) for message in messages]

    def __getattr__(self, name: str):
        return getattr(self.broker, name)


def test_a_message_deleted_before_its_result_answers_as_described(herald, caller, project):
    """Its user deleted between acceptance and delivery: `message/notFound` with the caller's id."""
    notification_id, user_id, message_id = f"n-{token()}", f"u-{token()}", f"m-{token()}"
    caller.post("/notifications.upsert", widget_notification(notification_id))

    def delete_user() -> None:
        with transaction(herald.engine) as connection:
            delete_users(connection, project["projectId"], [user_id])

    item = {"notificationId": notification_id, "userId": user_id, "id": message_id}
    with swapped(herald, broker=DeletingBroker(herald.broker, delete_user)):
        (result,) = caller.post("/messages.send", {"messages": [item]})["results"]
    assert result == {
        "id": message_id,
        "ok": False,
        "status": "failed",
        "error": "message/notFound",
        "message": result["message"],
        "channels": {},
    }
