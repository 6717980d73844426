"""What a body may be, on real sockets and in both modes: 1 MiB at most however it is sent
(chunked too), arrays and objects at most 64 deep before anything walks them, and a front
user id bounded as the backend's."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from shared.feed.reading import user_hmac
from shared.infra.config import Settings
from tests.support.bodies import nested, users_body
from tests.support.browser import served
from tests.support.calls import answer, send, upsert_notification
from tests.support.data import token, widget_notification
from tests.support.herald import swapped

LIMIT = Settings.max_body_bytes


@pytest.fixture(scope="module")
def base_url(herald):
    """The session's Herald of this mode on a loopback port (Werkzeug's server decodes
    chunked bodies, as gunicorn does)."""
    with served(herald.app) as url:
        yield url


def post(base: str, path: str, body: bytes, chunked: bool = False, key: str | None = None):
    """POST raw bytes, in 64 KiB chunks when `chunked` (no Content-Length): (status, JSON)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        if chunked:
            connection.request("POST", path, _chunks(body), headers, encode_chunked=True)
        else:
            connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 65536):
        yield body[start : start + 65536]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_1_mib_is_413_however_it_is_sent(base_url, project, chunked):
    status, error = post(
        base_url, "/users.upsert", users_body(LIMIT + 1), chunked, project["apiKey"]
    )
    assert (status, error["error"]) == (413, "body/tooLarge")
    assert str(LIMIT) in error["message"]


def test_a_chunked_body_of_exactly_1_mib_is_read(base_url, project):
    status, result = post(base_url, "/users.upsert", users_body(LIMIT), True, project["apiKey"])
    assert status == 200 and result["results"][0]["ok"] is True


def test_a_chunked_front_body_over_1_mib_is_413(base_url):
    status, error = post(base_url, "/front/messages.read", b"[" + b" " * LIMIT + b"]", True)
    assert (status, error["error"]) == (413, "body/tooLarge")


@pytest.mark.parametrize("path", ["/users.upsert", "/front/messages.read", "/webhooks/ses"])
def test_a_deep_body_with_a_lone_surrogate_is_400_naming_the_limit(herald, base_url, project, path):
    body = nested(900, inner='"\\ud800"').encode()
    topics = ("arn:aws:sns:us-east-1:123456789012:herald",)  # /webhooks/ses reads bodies then
    with swapped(herald, settings=replace(herald.settings, sns_topic_arns=topics)):
        status, error = post(base_url, path, body, key=project["apiKey"])
    assert (status, error["error"]) == (400, "body/invalidJson")
    assert "64 levels" in error["message"]


def test_the_depth_is_bounded_at_64(client):
    at_limit = client.post("/users.upsert", data=nested(64))
    assert answer(at_limit)["results"][0]["ok"] is True
    over = client.post("/users.upsert", data=nested(65))
    assert (over.status_code, over.get_json()["error"]) == (400, "body/invalidJson")


def test_brackets_inside_strings_do_not_count(client):
    text = '[{\\"' * 500
    answer_ = answer(client.post("/users.upsert", data=nested(5, inner=f'"{text}"')))
    assert answer_["results"][0]["ok"] is True


def test_a_front_user_id_is_bounded_like_the_backends(herald, project, client):
    # Given a user id one character over the backend's bound, and one at it
    upsert_notification(client, widget_notification("hello"))
    long_id, longest = "u" * 129, "u" * 128
    backend = send(client, {"notificationId": "hello", "userId": long_id})[0]
    # When the bell calls with each, correctly signed
    flask = herald.app.test_client()
    calls = {}
    for user_id in (long_id, longest):
        auth = {"projectId": project["projectId"], "userId": user_id}
        auth["userHmac"] = user_hmac(project["widgetSecret"], user_id)
        calls[user_id] = (
            flask.get("/front/messages.list", query_string=auth),
            flask.post("/front/messages.readAll", data=json.dumps(auth)),
        )
    # Then the longer one is refused with the backend's code, and the other is served
    for response in calls[long_id]:
        assert (response.status_code, response.get_json()["error"]) == (400, backend["error"])
    assert backend["error"] == "userId/invalid"
    assert all(response.status_code == 200 for response in calls[longest])


def test_a_front_user_id_of_5000_characters_is_refused(herald, project):
    user_id = "x" * 5000 + token()
    auth = {"projectId": project["projectId"], "userId": user_id}
    auth["userHmac"] = user_hmac(project["widgetSecret"], user_id)
    refused = herald.app.test_client().get("/front/users.get", query_string=auth)
    assert (refused.status_code, refused.get_json()["error"]) == (400, "userId/invalid")
