"""The frontend credential off URLs: userHmac in the `X-Herald-User-Hmac` header (the bell's
way; the query and body keep working for the Notifuse widget) and the stream opened with a
short-lived stream token, in both modes."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from shared.feed.reading import stream_token, user_hmac
from tests.support.browser import served
from tests.support.calls import answer, send, upsert_notification, upsert_users
from tests.support.data import token, widget_notification
from tests.support.herald import new_project, running_herald
from tests.support.servers import production_processes

HEADER = "X-Herald-User-Hmac"
HEARTBEAT = 0.5


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald of each mode whose streams beat every half second, so that a stream a test
    closes soon ends on the server too (the stream tests read a gauge of the whole process)."""
    with running_herald(request, tmp_path_factory, stream_heartbeat=HEARTBEAT) as instance:
        yield instance


@pytest.fixture(scope="module")
def herald_url(herald):
    """This module's Herald served on a free loopback port (the bell's pages call it)."""
    with served(herald.app) as url:
        yield url


@pytest.fixture
def user(client, project) -> dict:
    """A user of the project with the ping notification, and its credential."""
    upsert_notification(client, widget_notification("ping", "ping {{ n }}"))
    user_id = f"u-{token()}"
    assert upsert_users(client, {"id": user_id})[0]["ok"]
    signature = user_hmac(project["widgetSecret"], user_id)
    return {"projectId": project["projectId"], "userId": user_id, "userHmac": signature}


def who(user: dict) -> dict:
    """The user's ids without the HMAC."""
    return {"projectId": user["projectId"], "userId": user["userId"]}


def post_with_header(herald, action: str, user: dict):
    """A POST of the frontend API as the bell makes it: the ids in the body, the HMAC in the
    header."""
    return herald.app.test_client().post(
        f"/front/{action}",
        data=json.dumps(who(user)),
        content_type="text/plain",
        headers={HEADER: user["userHmac"]},
    )


def test_a_get_with_the_hmac_in_the_header_is_answered(herald, user):
    response = herald.app.test_client().get(
        "/front/messages.list", query_string=who(user), headers={HEADER: user["userHmac"]}
    )
    assert answer(response) == {"messages": [], "total": 0, "unread": 0}


def test_a_post_with_the_hmac_in_the_header_is_answered(herald, user):
    response = post_with_header(herald, "messages.readAll", user)
    assert answer(response) == {"ok": True, "unread": 0}


def test_the_header_wins_over_the_query(herald, user):
    flask = herald.app.test_client()
    wrong = "0" * 64
    refused = flask.get("/front/users.get", query_string=user, headers={HEADER: wrong}).get_json()
    assert refused["error"] == "auth/invalid"
    kept = flask.get(
        "/front/users.get",
        query_string={**user, "userHmac": wrong},
        headers={HEADER: user["userHmac"]},
    )
    assert answer(kept)["user"]["id"] == user["userId"]


def test_the_query_and_the_body_still_carry_the_hmac(herald, user):
    flask = herald.app.test_client()
    assert answer(flask.get("/front/users.get", query_string=user))["user"]["id"] == user["userId"]
    posted = flask.post("/front/messages.readAll", data=json.dumps(user), content_type="text/plain")
    assert answer(posted)["ok"] is True


def test_a_preflight_allows_the_hmac_header(herald):
    response = herald.app.test_client().options(
        "/front/users.get",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": HEADER.lower(),
        },
    )
    assert response.status_code == 200
    assert HEADER.lower() in response.headers["Access-Control-Allow-Headers"].lower()


def test_a_stream_token_is_issued_for_a_minute(herald, user):
    issued = answer(post_with_header(herald, "messages.streamToken", user))
    assert set(issued) == {"streamToken", "expiresIn"} and issued["expiresIn"] == 60
    expires = int(issued["streamToken"].partition(".")[0])
    assert time.time() + 55 < expires <= time.time() + 60
    assert user["userHmac"] not in issued["streamToken"]


def test_a_stream_token_opens_nothing_but_the_stream(herald, project, user):
    expires = int(time.time()) + 60
    made = stream_token(project["widgetSecret"], user["userId"], expires)
    query = {**who(user), "streamToken": made}
    response = herald.app.test_client().get("/front/messages.list", query_string=query)
    assert response.status_code == 401 and response.get_json()["error"] == "auth/invalid"


# ---- the stream on real sockets: the threaded server, and in production the stream process ----


@pytest.fixture(scope="module")
def stream_base(herald, herald_url, tmp_path_factory):
    """Where streams open: the served Flask app (embedded), the `stream` process (production)."""
    if herald.mode == "embedded":
        yield herald_url
        return
    log_dir = tmp_path_factory.mktemp("stream")
    processes, _, stream = production_processes(herald, HEARTBEAT, log_dir)
    try:
        yield stream
    finally:
        processes.stop_all()


def open_stream(base: str, query: dict) -> http.client.HTTPResponse:
    """GET messages.stream with this query; the response (its body is read line by line)."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
    connection.request("GET", f"/front/messages.stream?{urlencode(query)}")
    return connection.getresponse()


def next_data(response: http.client.HTTPResponse) -> dict:
    """The next event's data (heartbeats and the retry hint skipped)."""
    while True:
        line = response.readline()
        if not line:
            raise EOFError("the stream ended")
        if line.startswith(b"data:"):
            return json.loads(line[5:])


def issued_token(herald, user: dict) -> str:
    """A stream token for the user, asked for as the bell asks."""
    return answer(post_with_header(herald, "messages.streamToken", user))["streamToken"]


def test_a_stream_opened_with_its_token_gets_the_users_events(herald, client, user, stream_base):
    response = open_stream(stream_base, {**who(user), "streamToken": issued_token(herald, user)})
    try:
        assert response.status == 200
        assert next_data(response) == {"type": "stream.open", "unread": 0}
        item = {"notificationId": "ping", "userId": user["userId"], "data": {"n": 7}}
        sent = send(client, item)[0]
        event = next_data(response)
        assert event["type"] == "message.new" and event["message"]["id"] == sent["id"]
    finally:
        response.close()


@pytest.mark.parametrize("kind", ["expired", "another user's", "a user HMAC", "malformed"])
def test_a_stream_with_a_token_that_is_not_valid_is_401(project, user, stream_base, kind):
    secret = project["widgetSecret"]
    now = int(time.time())
    tokens = {
        "expired": stream_token(secret, user["userId"], now - 1),
        "another user's": stream_token(secret, "someone-else", now + 60),
        "a user HMAC": user["userHmac"],
        "malformed": f"{now + 60}.zz",
    }
    response = open_stream(stream_base, {**who(user), "streamToken": tokens[kind]})
    assert response.status == 401
    assert json.loads(response.read())["error"] == "auth/invalid"


def test_the_notifuse_stream_keeps_its_query_hmac(user, stream_base):
    response = open_stream(stream_base, user)
    try:
        assert response.status == 200
        assert next_data(response)["type"] == "stream.open"
    finally:
        response.close()


def test_the_bell_keeps_the_hmac_out_of_every_url_and_streams(page, customer):
    # Given the bell on a customer's page, every request it makes recorded
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    customer.send(1)
    customer.open_app(page)
    page.locator(".hd-bell").click()
    expect(page.locator(".hd-msg")).to_have_count(1)
    # When a message arrives while the page is open
    customer.send(1)
    # Then it arrives live, and no URL the bell asked for held the HMAC
    expect(page.locator(".hd-msg")).to_have_count(2)
    signature = customer.bell_options()["userHmac"]
    assert any("/front/messages.stream?" in url and "streamToken=" in url for url in urls), urls
    assert not [url for url in urls if signature in url or "userHmac" in url], urls
    assert page.errors == []


def test_another_projects_secret_makes_no_stream_token(herald, user):
    other = new_project(herald, "other")
    forged = {**who(user), "userHmac": user_hmac(other["widgetSecret"], user["userId"])}
    response = herald.app.test_client().post(
        "/front/messages.streamToken", data=json.dumps(forged), content_type="text/plain"
    )
    assert response.status_code == 401
