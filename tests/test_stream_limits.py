"""What one page, one user or one process can take of the feed streams, on real servers in both
modes: the caps on open streams (per user across every stream process, per process), the
bounded replay read in one statement, and event ids that count only the user's own events."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import event
from werkzeug.serving import make_server

from api.http.sse import open_stream
from shared.feed import stream_caps
from shared.feed.events import FeedEvent, complete, emit
from shared.feed.replay import REPLAY_LIMIT
from shared.infra.config import ConfigError, Settings
from shared.infra.db import autocommit
from shared.infra.errors import RateLimited
from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald
from tests.support.pages import NOTIFICATION, Page, backend, send
from tests.support.servers import Live, production_processes

HEARTBEAT = 0.5
PER_USER, PER_PROCESS = 2, 4


@dataclass
class Capped:
    """A Herald whose streams are capped: `live`, and the base URL of a second stream process
    (the same server in the embedded mode, which has one process)."""

    live: Live
    other_stream: str

    @property
    def herald(self):
        return self.live.herald


@pytest.fixture(scope="module", params=["embedded", "production"])
def capped(request, tmp_path_factory):
    caps = {"streams_per_user": PER_USER, "streams_per_process": PER_PROCESS}
    tmp = tmp_path_factory.mktemp(f"capped-{request.param}")
    herald = build_herald(request.param, tmp, request, stream_heartbeat=HEARTBEAT, **caps)
    if request.param == "embedded":
        server = make_server("127.0.0.1", 0, herald.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        yield Capped(Live(herald, url, url), url)
        server.shutdown()
    else:
        env = {f"HERALD_{name.upper()}": str(value) for name, value in caps.items()}
        first = production_processes(herald, HEARTBEAT, tmp_path_factory.mktemp("a"), **env)
        second = production_processes(herald, HEARTBEAT, tmp_path_factory.mktemp("b"), **env)
        yield Capped(Live(herald, first[1], first[2]), second[2])
        first[0].stop_all()
        second[0].stop_all()
    stop_herald(herald)


@pytest.fixture
def project(capped):
    created = new_project(capped.herald, "capped")
    backend(capped.live, created, "notifications.upsert", NOTIFICATION)
    return created


def page_of(capped: Capped, project: dict, user: str, other: bool = False) -> Page:
    """A page of the user whose stream goes to the first stream process, or the other one."""
    live = capped.live
    return Page(
        Live(live.herald, live.web, capped.other_stream if other else live.stream), project, user
    )


def opened(page: Page, last_event_id: int | None = None, wait: float = 5) -> None:
    """Open the page's stream, retrying a 429 while the servers notice streams closed."""
    deadline = time.monotonic() + wait
    while True:
        response = page.open(last_event_id)
        if response.status == 200:
            return
        page.close()
        assert response.status == 429 and time.monotonic() < deadline, response.status
        time.sleep(0.2)


def refused(page: Page) -> dict:
    """Open the page's stream, which must be refused as too many: the error JSON."""
    response = page.open()
    if response.status != 429:
        page.close()  # an open stream: its body never ends
    assert response.status == 429
    body = json.loads(response.read())
    page.close()
    assert body["error"] == "stream/tooMany" and body["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return body


def test_a_users_streams_past_the_cap_are_refused_until_one_closes(capped, project):
    user = f"u-{token()}"
    pages = [page_of(capped, project, user) for _ in range(PER_USER)]
    for page in pages:
        opened(page)
    assert "user" in refused(page_of(capped, project, user))["message"]
    # Another user of the project has streams of their own
    neighbour = page_of(capped, project, f"u-{token()}")
    opened(neighbour)
    neighbour.close()
    pages[0].close()
    pages[0] = page_of(capped, project, user)
    opened(pages[0])
    for page in pages:
        page.close()


def test_the_cap_per_user_holds_across_stream_processes(capped, project):
    if capped.herald.mode == "embedded":
        pytest.skip("the embedded mode serves every stream from one process")
    user = f"u-{token()}"
    here, there = page_of(capped, project, user), page_of(capped, project, user, other=True)
    opened(here)
    opened(there)
    refused(page_of(capped, project, user))
    refused(page_of(capped, project, user, other=True))
    there.close()
    replacement = page_of(capped, project, user)
    opened(replacement)
    here.close()
    replacement.close()


def test_a_process_refuses_streams_past_its_cap(capped, project):
    pages = [page_of(capped, project, f"u-{token()}") for _ in range(PER_PROCESS)]
    for page in pages:
        opened(page)
    assert "server" in refused(page_of(capped, project, f"u-{token()}"))["message"]
    if capped.herald.mode == "production":  # the other stream process has room
        elsewhere = page_of(capped, project, f"u-{token()}", other=True)
        opened(elsewhere)
        elsewhere.close()
    for page in pages:
        page.close()


def test_a_reconnect_from_zero_replays_only_the_last_events(capped, project):
    herald, user = capped.herald, f"u-{token()}"
    for _ in range(REPLAY_LIMIT + 10):
        emit(herald.settings, herald.engine, project["projectId"], user, "messages.readAll")
    page = page_of(capped, project, user)
    opened(page, last_event_id=0)
    replayed = [page.next_data() for _ in range(REPLAY_LIMIT + 1)]
    page.close()
    assert [event_id for event_id, _ in replayed] == [*range(11, REPLAY_LIMIT + 11), 60]
    assert {data["type"] for _, data in replayed[:-1]} == {"messages.readAll"}
    assert replayed[-1][1]["type"] == "stream.open"


def statements(engine) -> list[str]:
    """The statements the engine runs from now on (a list that grows), but the webhook pump's
    (the in-process worker's, on the same engine, every 0.25 s)."""
    seen: list[str] = []

    def note(*args) -> None:
        if "webhook_" not in args[2]:
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    return seen


def test_the_replay_and_a_notice_read_the_database_once(capped, project):
    herald, user = capped.herald, f"u-{token()}"
    message_id = send(capped.live, project, user)["id"]
    events = [
        emit(herald.settings, herald.engine, project["projectId"], user, kind, message_id)
        for kind in ("message.read", "messages.readAll")
    ]
    seen = statements(herald.engine)
    opening = open_stream(herald.engine, project["projectId"], user, 0)
    assert len(seen) == 1 and len(opening.frames) == 5  # retry, 3 events, stream.open
    notice = FeedEvent(events[0].id, project["projectId"], user, "message.read", None, None)
    with autocommit(herald.engine) as connection:
        assert complete(connection, notice).seq == 2
    assert len(seen) == 2


def test_event_ids_count_only_the_users_own_events(capped, project):
    # Given a user of a project whose first stream stands at 0
    user = f"u-{token()}"
    page = page_of(capped, project, user)
    opened(page)
    assert page.next_data() == (0, {"type": "stream.open", "unread": 0})
    # When another project's user has events, then this user has one
    other = new_project(capped.herald, "other")
    herald = capped.herald
    for _ in range(5):
        emit(herald.settings, herald.engine, other["projectId"], user, "messages.readAll")
    send(capped.live, project, user)
    # Then the page's next event is the user's first, and a reconnect starts from there
    event_id, data = page.next_data(timeout=2)
    page.close()
    assert (event_id, data["type"]) == (1, "message.new")
    opened(page, last_event_id=1)
    assert page.next_data() == (1, {"type": "stream.open", "unread": 1})
    page.close()


def test_the_streams_of_a_process_that_died_stop_counting(capped, monkeypatch):
    if capped.herald.mode == "embedded":
        pytest.skip("the embedded mode counts in its one process")
    monkeypatch.setattr(stream_caps, "LEASE_SECONDS", 1)
    # Given a process holding a user's streams up to the cap, that dies (renews nothing)
    died, alive = (stream_caps.RedisCaps(capped.herald.settings) for _ in range(2))
    user = f"u-{token()}"
    for _ in range(PER_USER):
        died.open("prj_x", user)
    died._held.clear()
    with pytest.raises(RateLimited):
        alive.open("prj_x", user)
    # Then once their leases ran out, another process opens the user's streams again
    time.sleep(1.2)
    alive.close(alive.open("prj_x", user))


def test_the_caps_and_who_serves_streams_are_settings():
    assert (Settings().streams_per_user, Settings().streams_per_process) == (5, 1000)
    assert Settings().web_streams
    env = {"HERALD_STREAMS_PER_USER": "3", "HERALD_STREAMS_PER_PROCESS": "20"}
    settings = Settings.from_env({**env, "HERALD_WEB_STREAMS": "0"})
    assert (settings.streams_per_user, settings.streams_per_process) == (3, 20)
    assert not settings.web_streams
    with pytest.raises(ConfigError, match="HERALD_STREAMS_PER_USER"):
        Settings.from_env({"HERALD_STREAMS_PER_USER": "0"})
