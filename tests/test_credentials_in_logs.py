"""No log line Herald writes holds the frontend credential: the development server's request
lines and gunicorn's access log, with userHmac in the query as the Notifuse widget sends it."""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from bench.processes import free_port, procfile, wait_http
from shared.feed.reading import user_hmac
from tests.support.browser import served
from tests.support.calls import upsert_users
from tests.support.data import token
from tests.support.deployment import deploy, running, wait_log
from tests.support.logs import captured


@pytest.fixture
def user(client, project) -> dict:
    """A user of the project and its credential."""
    user_id = f"u-{token()}"
    assert upsert_users(client, {"id": user_id})[0]["ok"]
    signature = user_hmac(project["widgetSecret"], user_id)
    return {"projectId": project["projectId"], "userId": user_id, "userHmac": signature}


@contextlib.contextmanager
def request_lines_logged():
    """Inside the block the development server logs its request lines (as under `herald
    serve`; the test session quiets them)."""
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.INFO)
    try:
        yield
    finally:
        werkzeug.setLevel(level)


def test_no_log_line_of_a_served_request_holds_the_hmac(herald, user):
    # Given Herald on the development server `herald serve` runs, which logs each request line
    with request_lines_logged(), served(herald.app) as base, captured() as lines:
        # When a page calls it with the HMAC in the query, as the Notifuse widget does
        url = f"{base}/front/users.get?{urlencode(user)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
    # Then the request was logged, and no line holds the HMAC
    logged = json.dumps(lines)
    assert "/front/users.get" in logged and "userHmac=<hidden>" in logged
    assert user["userHmac"] not in logged


def query_of(project: dict, **changed: str) -> str:
    """The query string of a frontend call of user u1, its HMAC in it."""
    user = {"projectId": project["projectId"], "userId": "u1"}
    user["userHmac"] = user_hmac(project["widgetSecret"], "u1")
    return urlencode({**user, **changed})


def test_the_access_logs_under_gunicorn_never_hold_the_hmac(tmp_path, pg_database):
    # Given the Procfile's web and stream processes with gunicorn's access log turned on
    access = {"GUNICORN_CMD_ARGS": "--access-logfile -"}
    deployment = deploy(tmp_path, pg_database, latency=0, **access)
    project = deployment.project
    signature = user_hmac(project["widgetSecret"], "u1")
    stream_port = free_port()
    stream_env = {**deployment.env, **access, "PORT": str(stream_port)}
    stream_base = f"http://127.0.0.1:{stream_port}"
    with running(deployment):
        web = deployment.start_web()
        stream = deployment.processes.start("stream", procfile("stream"), stream_env)
        wait_http(f"{stream_base}/healthz", stream, timeout=30)
        # When a page calls each with the HMAC in the query, as the Notifuse widget does (the
        # stream refused at once: another project's id, so its line is written at once)
        with urllib.request.urlopen(f"{deployment.base}/front/users.get?{query_of(project)}"):
            pass
        refused = f"{stream_base}/front/messages.stream?{query_of(project, projectId='prj_x')}"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(refused)
        # Then each access log has the request's line, without the HMAC
        wait_log(web, "GET /front/users.get")
        wait_log(stream, "GET /front/messages.stream")
    for process in (web, stream):
        assert signature not in process.log.read_text(errors="replace"), process.tail(20)
