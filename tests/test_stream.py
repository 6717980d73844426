"""GET /front/messages.stream on real servers: `herald serve`'s threaded server in the embedded
mode; in production a gunicorn web process for the API and the `stream` process (aiohttp) for
the events, two processes that share only PostgreSQL and Redis."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.serving import make_server

from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald
from tests.support.pages import NOTIFICATION, Page, backend, send
from tests.support.servers import Live, production_processes

pytestmark = pytest.mark.process  # in production, the web and stream processes

HEARTBEAT = 0.5


@pytest.fixture(scope="module", params=["embedded", "production"])
def live(request, tmp_path_factory):
    herald = build_herald(
        request.param, tmp_path_factory.mktemp(request.param), request, stream_heartbeat=HEARTBEAT
    )
    if request.param == "embedded":
        server = make_server("127.0.0.1", 0, herald.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        yield Live(herald, url, url)
        server.shutdown()
    else:
        log_dir = tmp_path_factory.mktemp("processes")
        # web and stream share a metrics folder, so the web's /metrics counts the streams
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path_factory.mktemp("metrics")))
            processes, web, stream = production_processes(herald, HEARTBEAT, log_dir)
        yield Live(herald, web, stream)
        processes.stop_all()
    stop_herald(herald)


@pytest.fixture
def project(live):
    created = new_project(live.herald, "stream")
    backend(live, created, "notifications.upsert", NOTIFICATION)
    return created


def test_a_sent_message_reaches_every_open_page_within_a_second(live, project):
    user = f"u-{token()}"
    pages = [Page(live, project, user) for _ in range(2)]
    for page in pages:
        assert page.open().status == 200
        assert page.next_data()[1] == {"type": "stream.open", "unread": 0}
    started = time.monotonic()
    result = send(live, project, user)
    for page in pages:
        _, data = page.next_data(timeout=1)
        assert data["type"] == "message.new"
        assert data["message"]["id"] == result["id"]
        assert data["message"]["content"] == "ping 1 (1)"
        assert data["unread"] == 1
    assert time.monotonic() - started < 1
    for page in pages:
        page.close()


def test_an_increment_and_read_states_reach_the_stream(live, project):
    user = f"u-{token()}"
    page = Page(live, project, user)
    page.open()
    page.next_data()
    first = send(live, project, user, incrementId="k")
    assert page.next_data(1)[1]["type"] == "message.new"
    assert send(live, project, user, incrementId="k", data={"n": 2})["status"] == "incremented"
    _, data = page.next_data(1)
    assert data["type"] == "message.incremented"
    assert data["message"]["id"] == first["id"] and data["message"]["content"] == "ping 2 (2)"
    page.post("messages.read", {"messageId": first["id"]})
    _, data = page.next_data(1)
    assert (data["type"], data["messageId"], data["unread"]) == ("message.read", first["id"], 0)
    assert data["readAt"]
    send(live, project, user)
    page.next_data(1)
    page.post("messages.readAll", {})
    _, data = page.next_data(1)
    assert (data["type"], data["unread"]) == ("messages.readAll", 0)
    page.close()


def test_a_reconnect_with_last_event_id_gets_what_it_missed(live, project):
    user = f"u-{token()}"
    page = Page(live, project, user)
    page.open()
    last_seen, _ = page.next_data()
    page.close()
    # While the page is away: two messages, one of them read
    missed = [send(live, project, user, data={"n": n})["id"] for n in (1, 2)]
    page.post("messages.read", {"messageId": missed[0]})
    page.open(last_event_id=last_seen)
    replayed = [page.next_data() for _ in range(4)]
    kinds = [data["type"] for _, data in replayed]
    assert kinds == ["message.new", "message.new", "message.read", "stream.open"]
    assert [data["message"]["id"] for _, data in replayed[:2]] == missed
    ids = [event_id for event_id, _ in replayed]
    assert ids[0] > last_seen and ids[0] < ids[1] < ids[2] == ids[3]
    assert replayed[3][1]["unread"] == 1
    page.close()
    # The same with the query parameter, as a first connection can send it
    page.open(lastEventId=ids[1])
    assert page.next_data()[1]["type"] == "message.read"
    page.close()


def test_another_users_events_never_reach_a_stream(live, project):
    mine, theirs = f"u-{token()}", f"u-{token()}"
    page = Page(live, project, mine)
    page.open()
    page.next_data()
    send(live, project, theirs)
    frame = page.next_event(timeout=3)
    assert frame == {"comment": "heartbeat"}
    page.close()


def test_an_idle_stream_gets_heartbeats(live, project):
    page = Page(live, project, f"u-{token()}")
    response = page.open()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    page.next_data()
    started = time.monotonic()
    assert page.next_event(timeout=3) == {"comment": "heartbeat"}
    assert page.next_event(timeout=3) == {"comment": "heartbeat"}
    assert time.monotonic() - started < HEARTBEAT * 2 + 1
    page.close()


def test_a_stream_with_a_wrong_hmac_is_401(live, project):
    page = Page(live, project, f"u-{token()}")
    page.auth["userHmac"] = "ab" * 32
    response = page.open()
    assert response.status == 401
    assert json.loads(response.read())["error"] == "auth/invalid"


def test_the_stream_answers_a_cors_preflight(live):
    connection = http.client.HTTPConnection(urlsplit(live.stream).netloc, timeout=5)
    connection.request(
        "OPTIONS",
        "/front/messages.stream",
        headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"},
    )
    response = connection.getresponse()
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "last-event-id" in response.headers["Access-Control-Allow-Headers"].lower()


def open_streams(live: Live) -> float:
    """The `herald_stream_connections` gauge of the web process's /metrics."""
    with urllib.request.urlopen(f"{live.web}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "herald_stream_connections":
            return sum(sample.value for sample in family.samples)
    raise AssertionError("/metrics has no herald_stream_connections")


def settled_streams(live: Live, expected: float | None = None, timeout: float = 10) -> float:
    """The gauge once it has held one value (`expected`, when given) for three heartbeats, so
    the streams of earlier tests have been noticed closed."""
    deadline, held, since = time.monotonic() + timeout, None, 0.0
    while time.monotonic() < deadline:
        value = open_streams(live)
        if value != held or (expected is not None and value != expected):
            held, since = value, time.monotonic()
        elif time.monotonic() - since >= HEARTBEAT * 3:
            return value
        time.sleep(0.1)
    raise AssertionError(f"the stream gauge did not settle at {expected}: {held}")


def test_an_open_stream_is_counted_until_it_closes(live, project):
    before = settled_streams(live)
    page = Page(live, project, f"u-{token()}")
    page.open()
    assert page.next_data()[1]["type"] == "stream.open"
    assert settled_streams(live, before + 1) == before + 1
    page.close()
    assert settled_streams(live, before) == before


def test_herald_serve_serves_streams_and_the_procfile_web_process_does_not(live, project):
    user = f"u-{token()}"
    page = Page(Live(live.herald, live.web, live.web), project, user)
    response = page.open()
    if live.herald.mode == "production":  # gunicorn leaves them to the stream process
        assert response.status == 404
        assert json.loads(response.read())["error"] == "stream/notServed"
        return
    assert page.next_data()[1]["type"] == "stream.open"
    result = send(live, project, user)
    _, data = page.next_data(timeout=1)
    assert (data["type"], data["message"]["id"]) == ("message.new", result["id"])
    page.close()
