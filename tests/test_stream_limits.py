"""What one page can take of the feed streams, on real servers in both modes: the bounded
replay read in one statement, and event ids that count only the user's own events."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import event
from werkzeug.serving import make_server

from api.http.sse import open_stream
from shared.feed.events import FeedEvent, complete, emit
from shared.feed.replay import REPLAY_LIMIT
from shared.infra.db import autocommit
from tests.conftest import build_herald, new_project, stop_herald, token
from tests.servers import Live, production_processes
from tests.test_stream import NOTIFICATION, Page, backend, send

HEARTBEAT = 0.5


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
    caps: dict = {}
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
    """The statements the engine runs from now on (a list that grows)."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
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
