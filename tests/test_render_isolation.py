"""A tenant's template can't stall or grow the process that serves everyone: compiling and
rendering run in the render pool, and `/healthz` keeps answering meanwhile, in both modes and
under gunicorn as the Procfile runs it."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from shared.templating import isolated
from tests.support.calls import Client, send, upsert_notification
from tests.support.data import token
from tests.support.deployment import deploy, running
from tests.support.health import peak_rss_mb
from tests.support.herald import new_project, running_herald

# Eight languages of 100,000 characters of tags each: within every bound of the API, and
# seconds of compiling in all (past 0.5 s anywhere), which no in-sandbox deadline interrupts.
SLOW_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "sv")
SLOW_TO_COMPILE = {  # a text of its own each, so that no compile is a cached one
    language: {"sms": {"text": "{{a}}" * 19_990 + language}} for language in SLOW_LANGUAGES
}  # fmt: skip
# 600 values of 1 MB: each within the sandbox's bounds, 600 MB in all: past the memory limit.
MANY_VALUES = "".join(f'{{% set a{i} = "a" * 1000000 %}}' for i in range(600)) + "done"


def slow_notification() -> dict:
    return {"id": f"slow-{token()}", "name": "Slow", "withSMS": True,
            "templates": SLOW_TO_COMPILE}  # fmt: skip


# Compiling that much is killed at the time limit, or at the memory limit if it gets there first.
LIMIT_NAMED = re.compile(
    r"took longer than its time limit of 0.5 s|past its memory limit of \d+ MB"
)


def answered_quickly(times: list[float]) -> bool:
    """Enough answers, 95 % of them within 100 ms and none past a second (a busy 2-core
    machine schedules a thread late now and then; a held GIL would stall them all)."""
    ordered = sorted(times)
    return len(ordered) > 10 and ordered[int(len(ordered) * 0.95)] < 0.1 and ordered[-1] < 1.0


@contextmanager
def health_watched(ask: Callable[[], None]) -> Iterator[list[float]]:
    """Ask for /healthz every 20 ms in a thread while the block runs; the answer times."""
    times: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            started = time.monotonic()
            ask()
            times.append(time.monotonic() - started)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield times
    finally:
        stop.set()
        watcher.join()


@pytest.fixture(scope="module", params=["embedded", "production"])
def quick_herald(request, tmp_path_factory):
    """A Herald whose messages may take 0.5 s to render: the compile below takes longer on any
    machine."""
    with running_herald(request, tmp_path_factory, render_time_limit=0.5) as herald:
        yield herald


@contextmanager
def pool_of(herald) -> Iterator[None]:
    """Inside the block the render pool has this Herald's limits: they are the process's (the
    last app made sets them), and the other tests' apps live in this process too."""
    before = isolated.current_limits()
    isolated.use_settings(herald.settings)
    try:
        yield
    finally:
        isolated.use_limits(before)


def test_a_template_that_compiles_past_the_limit_is_refused_while_healthz_answers(quick_herald):
    herald = quick_herald
    client = Client(herald.app, new_project(herald)["apiKey"])
    health = herald.app.test_client()

    def ask() -> None:
        assert health.get("/healthz").status_code == 200

    started = time.monotonic()
    with pool_of(herald), health_watched(ask) as times:
        response = client.post("/notifications.upsert", slow_notification())
    took = time.monotonic() - started
    assert response.status_code == 400
    assert response.get_json()["error"] == "template/invalid"
    assert LIMIT_NAMED.search(response.get_json()["message"])
    assert took < 8.0  # the kill at 2.5 s, the replacement's start on a busy machine
    assert answered_quickly(times)


def test_a_render_past_the_memory_limit_fails_the_message_and_this_process_does_not_grow(
    herald, client
):
    # Given a notification whose SMS builds 600 MB in values each within the sandbox's bounds
    upsert_notification(
        client,
        {"id": "many", "name": "Many", "withSMS": True,
         "templates": {"en": {"sms": {"text": MANY_VALUES}}}},
    )  # fmt: skip
    before = peak_rss_mb()
    # When it is sent
    [result] = send(client, {"notificationId": "many", "userId": f"u-{token()}",
                             "userTelephone": "+447911123456"})  # fmt: skip
    # Then the message fails naming the memory limit, at once, and this process stayed put
    assert (result["ok"], result["error"]) == (False, "template/renderFailed")
    assert "memory limit of 512 MB" in result["message"]
    assert peak_rss_mb() - before < 50


def refused(deployment, path: str, body: dict) -> dict:
    """The JSON of a 400 answer from the deployment's web process."""
    request = urllib.request.Request(
        deployment.base + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {deployment.project['apiKey']}"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)
    assert error.value.code == 400
    return json.load(error.value)


@pytest.mark.process
def test_under_gunicorn_healthz_answers_within_100_ms_while_a_compile_is_killed(
    tmp_path, pg_database
):
    deployed = deploy(
        tmp_path, pg_database, latency=0.0, WEB_CONCURRENCY="1", HERALD_RENDER_TIME_LIMIT="0.5"
    )
    with running(deployed) as deployment:
        deployment.start_web()

        def ask() -> None:
            with urllib.request.urlopen(deployment.base + "/healthz", timeout=5) as answer:
                assert answer.status == 200

        with health_watched(ask) as times:
            answer = refused(deployment, "/notifications.upsert", slow_notification())
    assert answer["error"] == "template/invalid"
    assert LIMIT_NAMED.search(answer["message"])
    assert answered_quickly(times)
