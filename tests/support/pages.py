"""A page of the bell as the stream tests drive it, and the backend calls they make."""

from __future__ import annotations

import http.client
import json
import urllib.request
from urllib.parse import urlencode, urlsplit

import pytest

from shared.feed.reading import user_hmac
from tests.support.data import widget_notification
from tests.support.servers import Live

pytestmark = pytest.mark.process  # in production, the web and stream processes

NOTIFICATION = widget_notification("ping", "ping {{ n }} ({{ increment }})")


class Page:
    """One browser page of a user: its API calls and its open stream."""

    def __init__(self, live: Live, project: dict, user_id: str) -> None:
        self.live = live
        self.auth = {
            "projectId": project["projectId"],
            "userId": user_id,
            "userHmac": user_hmac(project["widgetSecret"], user_id),
        }
        self.connection: http.client.HTTPConnection | None = None

    def open(self, last_event_id: int | None = None, **params) -> http.client.HTTPResponse:
        netloc = urlsplit(self.live.stream).netloc
        self.connection = http.client.HTTPConnection(netloc, timeout=5)
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        query = urlencode({**self.auth, **params})
        self.connection.request("GET", f"/front/messages.stream?{query}", headers=headers)
        self.sock = self.connection.sock  # the response takes it over
        self.response = self.connection.getresponse()
        return self.response

    def next_event(self, timeout: float = 5) -> dict:
        """The next frame: {"id", "data"} for an event, {"comment"} for a heartbeat."""
        self.sock.settimeout(timeout)
        frame: dict = {}
        while True:
            raw = self.response.readline()
            if not raw:
                raise EOFError("the stream ended")
            line = raw.decode().rstrip("\n")
            if line == "" and frame:
                return frame
            field, _, value = line.partition(":")
            if field == "" and value:
                return {"comment": value.strip()}
            if field == "id":
                frame["id"] = int(value.strip())
            elif field == "data":
                frame["data"] = json.loads(value.strip())

    def next_data(self, timeout: float = 5) -> tuple[int, dict]:
        """The next event that is not a heartbeat or the retry hint."""
        while True:
            frame = self.next_event(timeout)
            if "data" in frame:
                return frame["id"], frame["data"]

    def close(self) -> None:
        """Hang up (the response holds the socket too: closing the connection alone leaves it
        open)."""
        self.response.close()
        self.connection.close()

    def post(self, path: str, body: dict) -> dict:
        """A frontend API call, its JSON in a text/plain body as the Notifuse widget sends it."""
        return post_json(f"{self.live.web}/front/{path}", {**self.auth, **body}, {})


def post_json(url: str, body: dict, headers: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def backend(live: Live, project: dict, path: str, body: dict) -> dict:
    """A backend API call with the project's key."""
    return post_json(f"{live.web}/{path}", body, {"Authorization": f"Bearer {project['apiKey']}"})


def send(live: Live, project: dict, user_id: str, **fields) -> dict:
    item = {"notificationId": "ping", "userId": user_id, "data": {"n": 1}, **fields}
    return backend(live, project, "messages.send", {"messages": [item]})["results"][0]
