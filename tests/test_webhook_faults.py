"""Webhook delivery under faults, production, the Procfile's real processes: a `webhooks`
process killed with -9 while it posts, and Redis restarted empty with posts waiting in it.
Each counts what the receiver (a process of its own, verifying with `standardwebhooks`) got:
every event at least once, with its own id every time."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, func, select

from bench.processes import Process, procfile
from shared.infra import Settings, build_broker, make_engine
from shared.infra.db import transaction
from shared.webhooks import upsert_webhook, webhook_events
from tests.support.backends import IN_CI, backends_down, fresh_database
from tests.support.data import token
from tests.support.processes import Stack, settled
from tests.support.webhook_receiver import Receiver
from worker.webhooks import WEBHOOK_QUEUE, pump_once

NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Notice", "text": "Notice {{ n }}"}}},
}
SETTINGS = {
    "HERALD_WEBHOOKS_ALLOW_PRIVATE": "1",
    "HERALD_TEST_WEBHOOK_SCALE": "0.04",  # retries after 0.2 s, 12 s...; a job lost after 3 s
    "HERALD_SEND_WAIT": "2",
    # a delivery cut short by the database is taken up again within seconds
    "HERALD_SEND_TIME_LIMIT": "4",
    "HERALD_SWEEP_INTERVAL": "0.5",
    "HERALD_SWEEP_REQUEUE_AFTER": "2",
    "HERALD_PROVIDER_TIMEOUT": "6",
    "HERALD_PROVIDER_RETRY_BUDGET": "1",
}


def _required() -> None:
    down = backends_down() or (None if shutil.which("redis-server") else "no redis-server")
    if down:
        if IN_CI:
            pytest.fail(f"the fault tests are required in CI, but {down}")
        pytest.skip(f"fault tests skipped: {down}")


def _stack(tmp_path, standin, url: str) -> Stack:
    herald = Stack(tmp_path, url.rsplit("/", 1)[1], standin.url, **SETTINGS)
    herald.start_redis()
    herald.herald("db", "upgrade")
    herald.start_web()
    project = json.loads(herald.herald("project", "create", "w", "--email-from", "a@example.com"))
    herald.key, herald.project_id = project["apiKey"], project["projectId"]
    assert herald.api(herald.key).post("/notifications.upsert", NOTICE)[0] == 200
    herald.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    return herald


def _hook(herald: Stack, receiver: Receiver) -> None:
    """An endpoint to the receiver, its secret given to the receiver (restarted with it)."""
    settings = Settings(webhooks_allow_private=True)
    with transaction(herald.engine) as connection:
        made = upsert_webhook(connection, settings, herald.project_id, {"url": receiver.url})
    receiver.stop()
    receiver.secret = made["webhook"]["secret"]
    receiver.start()


def _start_webhooks(herald: Stack) -> Process:
    """The Procfile's `webhooks` process (one child, four threads)."""
    env = herald.env(HERALD_WEBHOOK_PROCESSES="1", HERALD_WEBHOOK_THREADS="4")
    herald.workers.append(herald.processes.start("webhooks", procfile("webhooks"), env))
    # booted (its schema checked, its pump started) before a test cuts the database
    deadline = time.monotonic() + 60
    while b"ready for action" not in herald.workers[-1].log.read_bytes():
        assert time.monotonic() < deadline, "the webhooks process never became ready"
        time.sleep(0.1)
    return herald.workers[-1]


def _send(herald: Stack, count: int) -> str:
    """Send `count` notices, to users `TAG-0`… : the tag."""
    tag = token()
    items = [
        {"notificationId": "notice", "userId": f"{tag}-{i}", "userEmail": f"{tag}-{i}@a.example"}
        for i in range(count)
    ]
    assert herald.api(herald.key).post("/messages.send", {"messages": items})[0] == 200
    return tag


@pytest.mark.process
def test_a_webhooks_process_killed_while_posting_posts_the_event_again(standin, tmp_path):
    _required()
    receiver = Receiver("whsec_c2VjcmV0c2VjcmV0c2VjcmV0", tmp_path, mode="hang:1")
    with fresh_database("herald_webhook_kill") as url:
        herald = _stack(tmp_path, standin, url)
        try:
            _hook(herald, receiver)
            herald.start_worker()
            doomed = _start_webhooks(herald)
            _send(herald, 1)
            assert receiver.wait_for(1, timeout=30), "the event was never posted"
            herald.kill_worker(doomed)  # kill -9 while the receiver holds the post
            _start_webhooks(herald)
            deadline = time.monotonic() + 30
            while len(receiver.got()) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            got = receiver.got()
        finally:
            receiver.stop()
            herald.close()
    assert len(got) == 2, got
    assert got[0]["id"] == got[1]["id"] and all(entry["verified"] for entry in got)
    assert got[1]["type"] == "message.sent"


@pytest.mark.process
def test_posts_lost_with_redis_are_enqueued_again(standin, tmp_path):
    """Five posts enqueued (by a pump pass run here), Redis killed and restarted empty: the
    webhooks process's pump takes them for lost and enqueues them again; all five arrive."""
    _required()
    receiver = Receiver("whsec_c2VjcmV0c2VjcmV0c2VjcmV0", tmp_path)
    with fresh_database("herald_webhook_redis") as url:
        herald = _stack(tmp_path, standin, url)
        try:
            _hook(herald, receiver)
            herald.start_worker()
            _send(herald, 5)
            _wait_for_events(herald, 5)
            settings = replace(Settings.from_env(herald.env()), webhook_concurrency=10)
            broker = build_broker(settings)
            broker.declare_queue(WEBHOOK_QUEUE)
            assert pump_once(settings, make_engine(settings), broker) == 5
            herald.kill_redis()  # the five jobs are gone with it
            herald.start_redis()
            _start_webhooks(herald)
            got = receiver.wait_for(5, timeout=30)
        finally:
            receiver.stop()
            herald.close()
    assert len({entry["id"] for entry in got}) == 5 and all(e["verified"] for e in got)


@pytest.mark.process
def test_postgresql_cut_during_delivery_loses_no_event_of_a_committed_change(standin, tmp_path):
    """PostgreSQL unreachable for a second and a half while 20 messages are delivered: every
    channel whose final status committed has its one event in the outbox, and the receiver
    gets every event (each id at least once)."""
    _required()
    receiver = Receiver("whsec_c2VjcmV0c2VjcmV0c2VjcmV0", tmp_path)
    with fresh_database("herald_webhook_pgcut") as url:
        herald = _stack(tmp_path, standin, url)
        try:
            _hook(herald, receiver)
            herald.start_worker()
            _start_webhooks(herald)
            standin.latency = 0.3
            tag = _send(herald, 20)
            time.sleep(0.4)
            herald.proxy.cut()  # while sends are under way and their outcomes being written
            time.sleep(1.5)
            herald.proxy.restore()
            found = settled(herald, [{"userId": f"{tag}-{i}"} for i in range(20)], timeout=90)
            wanted = {(row.id, "email"): row.email_status for row in found.values()}
            events = _events(herald)
            got = receiver.wait_for(len(events), timeout=60)
        finally:
            receiver.stop()
            herald.close()
    # one event per channel that reached a final status, of that status
    assert {
        key: event_type.removeprefix("message.") for key, (_, event_type) in events.items()
    } == wanted
    assert {event_id for event_id, _ in events.values()} <= {entry["id"] for entry in got}
    assert all(entry["verified"] for entry in got)


def _events(herald: Stack) -> dict[tuple[str, str], tuple[str, str]]:
    """Each message event of the outbox by (message id, channel): its id and type."""
    with herald.engine.connect() as connection:
        rows = connection.execute(select(webhook_events)).all()
    events = {}
    for row in rows:
        data = row.data if isinstance(row.data, dict) else json.loads(row.data)
        key = (data["messageId"], data["channel"])
        assert key not in events, f"two events for {key}"
        events[key] = (row.id, row.type)
    return events


def _wait_for_events(herald: Stack, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with herald.engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(webhook_events)) >= count:
                return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} events were written")
