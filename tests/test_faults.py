"""Herald under faults, in production mode with real processes: workers killed, a poison
message, Redis lost, PostgreSQL cut, a backlog with no worker. Each test checks every message
it sent: a final state, no recipient twice, `unknown` only where a send was in flight."""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlalchemy import create_engine, func, select

from shared.infra.broker import QUEUE, build_broker
from shared.infra.config import Settings
from shared.infra.models import messages
from shared.messages.sweeper import sweep
from tests.support.backends import IN_CI, backends_down, fresh_database
from tests.support.calls import Client, until_final, upsert_notification
from tests.support.data import phone, token
from tests.support.processes import (
    Stack,
    assert_once,
    channels_with,
    crashed_count,
    get_message,
    rows,
    settled,
)

SLOW = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
ALERT = {
    "id": "alert",
    "name": "Alert",
    "withEmail": True,
    "withSMS": True,
    "withWidget": True,
    "templates": {
        "en": {
            "email": {"subject": "Alert {{ n }}", "text": "Alert {{ n }}"},
            "sms": {"text": "Alert {{ n }}{% if slow %}" + SLOW + "{% endif %}"},
            "widget": {"content": "Alert {{ n }}"},
        }
    },
}
BULK = {"id": "bulk", "name": "Bulk", "withEmail": True, "templates": ALERT["templates"]}
SETTINGS = {
    "HERALD_SEND_TIME_LIMIT": "4",
    "HERALD_SWEEP_INTERVAL": "0.5",
    "HERALD_SWEEP_REQUEUE_AFTER": "2",
    "HERALD_PROVIDER_TIMEOUT": "6",
    "HERALD_PROVIDER_RETRY_BUDGET": "1",
    "HERALD_SEND_WAIT": "0.5",
}
RENDER_PAST_DELIVERY = 60  # s, far past HERALD_SEND_TIME_LIMIT


@pytest.fixture(scope="module")
def stack(standin, tmp_path_factory):
    """Herald's web process on its own Redis server and a proxied database, with a project."""
    down = backends_down() or (None if shutil.which("redis-server") else "no redis-server")
    if down:
        if IN_CI:
            pytest.fail(f"the fault tests are required in CI, but {down}")
        pytest.skip(f"fault tests skipped: {down}")
    with fresh_database("herald_faults") as url:
        herald = Stack(
            tmp_path_factory.mktemp("faults"), url.rsplit("/", 1)[1], standin.url, **SETTINGS
        )
        try:
            herald.start_redis()
            herald.herald("db", "upgrade")
            herald.start_web()
            project = json.loads(
                herald.herald("project", "create", "faults", "--email-from", "a@example.com")
            )
            herald.key = project["apiKey"]
            for body in (ALERT, BULK):
                assert herald.api(herald.key).post("/notifications.upsert", body)[0] == 200
            herald.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            yield herald
        finally:
            herald.close()


@pytest.fixture
def live(stack, standin):
    """The stack with the stand-in answering at once; every worker stopped after the test."""
    standin.latency = 0.0
    yield stack
    stack.stop_workers()


def batch(size: int, notification: str = "alert", **data) -> list[dict]:
    """Messages to new recipients, each with an e-mail address and a telephone number."""
    tag = token()
    return [
        {
            "notificationId": notification,
            "userId": f"{tag}-{i}",
            "userEmail": f"{tag}-{i}@example.com",
            "userTelephone": phone(),
            "data": {"n": i, **data},
        }
        for i in range(size)
    ]


def send(herald: Stack, items: list[dict]) -> tuple[int, dict]:
    """POST one batch; (status, answer)."""
    return herald.api(herald.key).post("/messages.send", {"messages": items})


def ready(herald: Stack) -> None:
    """Wait until the workers deliver: a one-message batch reaches `sent`."""
    probe = batch(1)
    assert send(herald, probe)[0] == 200
    settled(herald, probe, timeout=60)


@pytest.mark.process
def test_a_worker_killed_during_a_batch_loses_nothing_and_sends_nothing_twice(live, standin):
    herald = live
    doomed = herald.start_worker()
    herald.start_worker()
    ready(herald)
    standin.latency = 1.0
    items = batch(40)
    assert send(herald, items)[0] == 200
    time.sleep(1.5)  # both workers have sends in flight
    # When one worker is killed with kill -9
    herald.kill_worker(doomed)
    in_flight = channels_with(rows(herald, items), "sending")
    herald.start_worker()  # a replacement, as a supervisor would start
    # Then every message ends, nothing went twice, and only what was in flight is unknown
    found = settled(herald, items, timeout=90)
    assert_once(standin, items, found)
    unknown = channels_with(found, "unknown")
    assert unknown <= in_flight
    print(
        f"\nkill -9: {len(items)} messages, {len(in_flight)} sends in flight, "
        f"{len(unknown)} unknown"
    )


@pytest.mark.process
def test_a_poison_message_crashes_after_three_attempts_and_its_batch_is_delivered(live, standin):
    herald = live
    # Renders may take longer than a delivery may: the slow one is stopped by the worker's
    # time limit (the delivery dies), not by the render limit (`template/renderFailed`)
    herald.start_worker(HERALD_RENDER_TIME_LIMIT=str(RENDER_PAST_DELIVERY))
    ready(herald)
    crashed_before = crashed_count(herald)
    items = batch(8)
    items[0]["data"]["slow"] = True  # its SMS renders past the time limit, every time
    standin.hang[items[1]["userEmail"]] = 30.0  # its e-mail's answer never comes in time
    assert send(herald, items)[0] == 200
    found = settled(herald, items, timeout=90)
    poison, hung, *others = (found[item["userId"]] for item in items)
    # The render that kills its delivery: three attempts, then delivery/crashed, nothing sent
    assert (poison.status, poison.error, poison.attempts) == ("failed", "delivery/crashed", 3)
    assert {poison.email_status, poison.sms_status, poison.widget_status} == {"failed"}
    answer = get_message(herald, poison.id)
    assert (answer["status"], answer["error"]) == ("failed", "delivery/crashed")
    assert crashed_count(herald) == crashed_before + 1
    # The send past the time limit: unknown, never sent again; its SMS kept as sent
    assert (hung.status, hung.email_status, hung.sms_status) == ("sent", "unknown", "sent")
    assert all(row.status == "sent" and row.email_status == "sent" for row in others)
    assert_once(standin, items[2:], {k: v for k, v in found.items() if v in others})
    assert standin.received(items[1]["userEmail"]) == 1
    assert standin.received(items[0]["userEmail"]) == 0


@pytest.mark.process
def test_redis_lost_during_a_batch_answers_queued_and_delivers_every_message_once(live, standin):
    herald = live
    herald.start_worker()
    ready(herald)
    standin.latency = 0.5
    first, second = batch(20), batch(20)
    assert send(herald, first)[0] == 200
    # When Redis dies with jobs in it, a batch is sent meanwhile, and Redis comes back empty
    herald.kill_redis()
    status, answer = send(herald, second)
    herald.start_redis()
    # Then that batch is accepted and answered `queued` (its jobs could not be enqueued)
    assert status == 200, answer
    assert {result["status"] for result in answer["results"]} == {"queued"}
    # And the sweeper enqueues what Redis lost or never got: every message delivered once
    found = settled(herald, first + second, timeout=120)
    assert_once(standin, first + second, found)
    assert channels_with(found, "sent") == {
        (r.pk, c) for r in found.values() for c in ("email", "sms")
    }


@pytest.mark.process
def test_postgresql_cut_during_a_batch_answers_503_and_resumes_without_duplicates(live, standin):
    herald = live
    herald.start_worker()
    ready(herald)
    standin.latency = 0.5
    first, refused, after = batch(20), batch(10), batch(10)
    assert send(herald, first)[0] == 200
    time.sleep(0.2)
    # When the database is unreachable for a second
    herald.proxy.cut()
    status, answer = send(herald, refused)
    time.sleep(1.0)
    herald.proxy.restore()
    # Then new batches were refused with 503 and nothing of them was written
    assert (status, answer["error"]) == (503, "service/unavailable")
    assert rows(herald, refused) == {}
    # And delivery resumes: every message of the other batches ends, none sent twice
    assert send(herald, after)[0] == 200
    found = settled(herald, first + after, timeout=90)
    assert_once(standin, first + after, found)
    print(f"\nPostgreSQL cut: {len(channels_with(found, 'unknown'))} unknown of {2 * len(found)}")


@pytest.mark.process
def test_a_backlog_waiting_for_workers_is_enqueued_once(live, standin):
    herald = live
    accepting = time.monotonic()
    items = batch(5000, notification="bulk")
    chunks = [items[i : i + 50] for i in range(0, len(items), 50)]
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda chunk: send(herald, chunk)[0], chunks)) == {200}
    # When no worker runs for three times the requeue threshold, the sweeper passing meanwhile
    settings = Settings.from_env(herald.env())
    broker = build_broker(settings)
    started = time.monotonic()
    while time.monotonic() - started < 3 * settings.sweep_requeue_after:
        sweep(herald.engine, broker, settings)
        time.sleep(0.5)
    # Then Redis holds one job per message, not more
    assert redis.Redis.from_url(herald.redis_url).llen(f"herald-faults:{QUEUE}") == len(items)
    # And once workers start, each message is delivered once
    herald.start_worker(threads=16)
    herald.start_worker(threads=16)
    delivering = time.monotonic()
    found = settled(herald, items, timeout=120)
    print(
        f"\nbacklog: accepted and swept in {delivering - accepting:.0f} s, "
        f"delivered in {time.monotonic() - delivering:.0f} s"
    )
    assert {row.email_status for row in found.values()} == {"sent"}
    assert all(standin.received(item["userEmail"]) == 1 for item in items)
    with herald.engine.connect() as connection:
        assert connection.execute(select(func.max(messages.c.attempts))).scalar() >= 1


def test_a_stacked_send_never_changes_a_failed_message(herald, project):
    # Given a message whose delivery crashed after its widget was shown
    client = Client(herald.app, project["apiKey"])
    widget = {"content": "Orders: {{ increment }}"}
    upsert_notification(
        client,
        {
            **BULK,
            "id": "orders",
            "withEmail": False,
            "withWidget": True,
            "templates": {"en": {"widget": widget}},
        },
    )
    item = {"notificationId": "orders", "userId": f"u-{token()}", "incrementId": "o"}
    [first] = client.post("/messages.send", {"messages": [item]}).get_json()["results"]
    assert first["status"] == "sent"
    with herald.engine.begin() as connection:
        connection.execute(
            messages.update()
            .where(messages.c.id == first["id"])
            .values(status="failed", error="delivery/crashed", error_message="crashed")
        )
    # When another send stacks onto it and the widget is rendered again
    [second] = client.post("/messages.send", {"messages": [item]}).get_json()["results"]
    assert second["status"] == "incremented"
    shown = until_final(client, first["id"], lambda m: m["widget"]["content"] == "Orders: 2")
    # Then its widget shows the new count and it is still failed, with its error
    assert shown["widget"]["content"] == "Orders: 2"
    assert (shown["status"], shown["error"]) == ("failed", "delivery/crashed")
