"""The calls the tests make through Flask's test client, with a project's key, and the
answers they expect."""

from __future__ import annotations

import json
import time
from collections.abc import Callable


class Client:
    """The Flask test client with the project's key on every call."""

    def __init__(self, app, key: str | None) -> None:
        self.flask = app.test_client()
        self.key = key

    def _headers(self, headers):
        base = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return {**base, **(headers or {})}

    def post(self, path: str, body=None, *, data=None, headers=None):
        if data is None:
            data = json.dumps(body)
        return self.flask.post(path, data=data, headers=self._headers(headers))

    def get(self, path: str, headers=None, **params):
        return self.flask.get(path, query_string=params, headers=self._headers(headers))


def answer(response, status: int = 200) -> dict:
    """The JSON body of a response that must have this status."""
    assert response.status_code == status, response.get_json()
    return response.get_json()


def refused(client: Client, body) -> dict:
    """The 400 answer of a notifications.upsert that must fail."""
    response = client.post("/notifications.upsert", body)
    assert response.status_code == 400, response.get_json()
    answer = response.get_json()
    assert answer["message"]
    return answer


def openapi(herald) -> dict:
    """The app's /openapi.json, which must be served as JSON."""
    response = herald.app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def upsert_notification(client: Client, body: dict) -> dict:
    """Upsert one notification, which must be accepted; its stored form."""
    return answer(client.post("/notifications.upsert", body))["notification"]


def upsert_users(client: Client, *users: dict) -> list[dict]:
    """Upsert users in one batch; the per-user results."""
    return answer(client.post("/users.upsert", {"users": list(users)}))["results"]


def send(client: Client, *items: dict) -> list[dict]:
    """Send messages in one batch; the per-message results, in request order."""
    return answer(client.post("/messages.send", {"messages": list(items)}))["results"]


def until_final(
    client: Client, message_id: str, done: Callable[[dict], bool] | None = None, wait: float = 10
) -> dict:
    """The message once `done` holds for it (by default: once it is no longer queued or
    scheduled, i.e. sent or failed), or as it is after `wait` seconds."""
    done = done or (lambda message: message["status"] not in ("queued", "scheduled"))
    deadline = time.monotonic() + wait
    while True:
        message = answer(client.get("/messages.get", id=message_id))["message"]
        if done(message) or time.monotonic() > deadline:
            return message
        time.sleep(0.05)
