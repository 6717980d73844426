"""Delivering the webhook outbox (SPEC §9), both modes, to receivers in processes of their own
that verify every signature with the `standardwebhooks` package: every event arrives, each
id at least once; failures are retried on the schedule; a 410 disables the endpoint; a hostile
endpoint holds nobody else up; an address that turned private is never connected to."""

from __future__ import annotations

import ipaddress
import time

import pytest
from sqlalchemy import select, update

from shared.infra import utcnow
from shared.infra.db import transaction
from shared.webhooks import addresses, upsert_webhook, webhook_deliveries, webhooks
from shared.webhooks.dispatch import fan_out, take_due
from shared.webhooks.endpoints import new_secret
from shared.webhooks.events import record_event
from tests.support.backends import fresh_database
from tests.support.calls import Client, send, until_final, upsert_notification
from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald
from tests.support.webhook_receiver import Receiver

NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withEmail": True,
    "withWidget": True,
    "templates": {"en": {"email": {"subject": "Hi", "text": "Hi"}, "widget": {"content": "Hi"}}},
}
FAST = {"webhooks_allow_private": True, "webhook_retries": (0.3, 0.6, 1.0), "webhook_timeout": 2.0}


@pytest.fixture(params=["embedded", "production"])
def herald(request, tmp_path):
    """A Herald of its own database: no other test's endpoints for its pump to post to."""
    if request.param == "embedded":
        herald = build_herald("embedded", tmp_path, request, **FAST)
        yield herald
        stop_herald(herald)
        return
    with fresh_database("herald_webhooks") as url:
        herald = build_herald("production", tmp_path, request, database_url=url, **FAST)
        yield herald
        stop_herald(herald)


def _endpoint(herald, url: str) -> tuple[Client, str, str]:
    """A new project with one endpoint to `url`: its client, project id and secret."""
    project = new_project(herald, "hooks")
    with transaction(herald.engine) as connection:
        made = upsert_webhook(connection, herald.settings, project["projectId"], {"url": url})
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, NOTICE)
    return client, project["projectId"], made["webhook"]["secret"]


def _send(client: Client) -> dict:
    item = {"notificationId": "notice", "userId": f"u-{token()}", "userEmail": "a@example.com"}
    [result] = send(client, item)
    return until_final(client, result["id"])


def _receiver_for(herald, tmp_path, mode="ok") -> tuple[Client, Receiver]:
    receiver = Receiver(new_secret(), tmp_path, mode)  # the secret comes with the endpoint
    client, _, secret = _endpoint(herald, receiver.url)
    receiver.stop()
    receiver.secret = secret
    receiver.start()
    return client, receiver


def test_every_event_arrives_signed(herald, tmp_path):
    client, receiver = _receiver_for(herald, tmp_path)
    try:
        message = _send(client)
        got = receiver.wait_for(2)
    finally:
        receiver.stop()
    assert all(entry["verified"] for entry in got), got
    assert sorted((e["type"], e["data"]["channel"]) for e in got) == [
        ("message.sent", "email"),
        ("message.sent", "widget"),
    ]
    email = next(e for e in got if e["data"]["channel"] == "email")
    assert email["data"]["messageId"] == message["id"]
    assert email["data"]["providerMessageId"] == message["channels"]["email"]["providerMessageId"]
    assert len({e["id"] for e in got}) == 2 and all(e["id"].startswith("evt_") for e in got)


def test_a_failing_receiver_gets_every_event_on_the_schedule(herald, tmp_path):
    client, receiver = _receiver_for(herald, tmp_path, mode="fail:3")
    try:
        _send(client)
        statuses = _statuses_when_settled(herald, receiver.url, 2)
        got = receiver.got()
    finally:
        receiver.stop()
    assert len({e["id"] for e in got}) == 2 and all(e["verified"] for e in got)
    assert len(got) == 5  # three 500s, then each event once more: none lost, none doubled
    by_id: dict[str, list[float]] = {}
    for entry in got:
        by_id.setdefault(entry["id"], []).append(entry["at"])
    gaps = [b - a for times in by_id.values() for a, b in zip(times, times[1:], strict=False)]
    assert all(gap >= 0.25 for gap in gaps), gaps  # never sooner than the schedule says
    assert statuses == ["succeeded", "succeeded"]


def _statuses_when_settled(herald, url: str, count: int, timeout: float = 20.0) -> list[str]:
    """The statuses of the deliveries to `url` once `count` of them are no longer pending."""
    deadline = time.monotonic() + timeout
    query = (
        select(webhook_deliveries.c.status)
        .join(webhooks, webhooks.c.pk == webhook_deliveries.c.webhook_pk)
        .where(webhooks.c.url == url)
    )
    while True:
        with herald.engine.connect() as connection:
            rows = connection.execute(query).scalars().all()
        settled = [status for status in rows if status != "pending"]
        if len(settled) >= count or time.monotonic() > deadline:
            return sorted(rows)
        time.sleep(0.1)


def test_a_410_disables_the_endpoint(herald, tmp_path):
    client, receiver = _receiver_for(herald, tmp_path, mode="gone")
    try:
        _send(client)
        receiver.wait_for(1)
        time.sleep(1.5)
        got = receiver.got()
    finally:
        receiver.stop()
    # the posts already in flight (at most webhook_concurrency) got 410 too; nothing after
    assert 1 <= len(got) <= herald.settings.webhook_concurrency, got
    with herald.engine.connect() as connection:
        endpoint = connection.execute(select(webhooks).where(webhooks.c.url == receiver.url)).one()
    assert not endpoint.enabled and endpoint.disabled == "gone"


def test_a_hanging_endpoint_holds_up_neither_messages_nor_other_endpoints(herald, tmp_path):
    hung_client, hung = _receiver_for(herald, tmp_path, mode="hang")
    client, good = _receiver_for(herald, tmp_path)
    try:
        for _ in range(3):
            _send(hung_client)  # six events for the endpoint that never answers
        started = time.monotonic()
        _send(client)
        sent_in = time.monotonic() - started
        got = good.wait_for(2, timeout=5)
    finally:
        hung.stop()
        good.stop()
    assert len({e["id"] for e in got}) == 2
    assert sent_in < 2.0, sent_in  # messages.send answered as usual


def test_an_address_that_turned_private_is_never_connected(request, tmp_path, monkeypatch):
    """The endpoint's host resolved to a public address when it was saved and resolves to
    127.0.0.1 when the event goes: the post is refused before any connection."""
    strict = {**FAST, "webhooks_allow_private": False}
    herald = build_herald("embedded", tmp_path, request, **strict)
    receiver = Receiver(new_secret(), tmp_path)
    answers = [ipaddress.ip_address("93.184.216.34")]
    monkeypatch.setattr(addresses, "resolve", lambda host, port: answers)
    try:
        client, project_id, _ = _endpoint(herald, f"https://hooks.example:{receiver.port}/")
        answers[:] = [ipaddress.ip_address("127.0.0.1")]  # the DNS answer changed
        _send(client)
        time.sleep(1.5)
        with herald.engine.connect() as connection:
            errors = connection.execute(select(webhook_deliveries.c.error)).scalars().all()
    finally:
        receiver.stop()
        stop_herald(herald)
    assert receiver.got() == []
    assert errors and all(error.startswith("url/private") for error in errors), errors


def test_dead_endpoints_however_many_leave_posts_to_the_others(request, tmp_path):
    """Ten endpoints failing since their last success get one post in flight each and two in
    all; a healthy endpoint's due posts are taken besides."""
    herald = build_herald("embedded", tmp_path, request, **FAST)
    try:
        project = new_project(herald, "many")["projectId"]
        now = utcnow()
        with transaction(herald.engine) as connection:
            endpoints = [
                upsert_webhook(
                    connection, herald.settings, project, {"url": f"http://127.0.0.1:9/{i}"}
                )
                for i in range(11)
            ]
            ids = [made["webhook"]["id"] for made in endpoints]
            connection.execute(
                update(webhooks).where(webhooks.c.id.in_(ids[:10])).values(failing_since=now)
            )
            for i in range(3):
                record_event(connection, project, "message.sent", {"messageId": f"m{i}"})
            fan_out(connection, now)
            taken = take_due(connection, now, 60.0, herald.settings.webhook_concurrency)
            hooks = dict(connection.execute(select(webhooks.c.pk, webhooks.c.id)).all())
            by = (
                connection.execute(
                    select(webhook_deliveries.c.webhook_pk).where(
                        webhook_deliveries.c.pk.in_(taken)
                    )
                )
                .scalars()
                .all()
            )
    finally:
        stop_herald(herald)
    healthy = [pk for pk in by if hooks[pk] == ids[10]]
    assert len(healthy) == 2  # its own two slots, whatever the dead ones do
    assert len(by) - len(healthy) == 2  # the ten dead endpoints: two posts in all


def test_hostile_endpoints_delay_neither_sends_nor_other_endpoints(herald, tmp_path):
    """Endpoints that answer 10 MB, redirect to the metadata address, or 500 for ever, beside a
    good one: the good one gets its events at once, sends answer as fast as without them, the
    redirect is not followed and the 10 MB answer is read no further than 64 KiB."""
    good_client, good = _receiver_for(herald, tmp_path)
    hostile = [_receiver_for(herald, tmp_path, mode) for mode in ("big", "redirect", "fail:1000")]
    try:
        baseline = _timed_sends(good_client, 3)
        for client, _ in hostile:
            for _ in range(2):
                _send(client)
        during = _timed_sends(good_client, 3)
        got = good.wait_for(12, timeout=10)
        big_url, redirect_url = hostile[0][1].url, hostile[1][1].url
        time.sleep(1.0)
        outcomes = _deliveries_by_url(herald)
    finally:
        for _, receiver in [*hostile, (None, good)]:
            receiver.stop()
    assert len({entry["id"] for entry in got}) == 12  # 6 messages × e-mail and widget
    assert during < max(2 * baseline, baseline + 1.0), (baseline, during)
    assert {status for status, _, _ in outcomes[big_url]} == {"succeeded"}
    assert all(duration < 2000 for _, duration, _ in outcomes[big_url])
    assert all("redirects are not followed" in error for _, _, error in outcomes[redirect_url])


def _timed_sends(client: Client, count: int) -> float:
    started = time.monotonic()
    for _ in range(count):
        _send(client)
    return time.monotonic() - started


def _deliveries_by_url(herald) -> dict[str, list[tuple]]:
    d = webhook_deliveries
    query = select(webhooks.c.url, d.c.status, d.c.duration_ms, d.c.error).join(
        webhooks, webhooks.c.pk == d.c.webhook_pk
    )
    found: dict[str, list[tuple]] = {}
    with herald.engine.connect() as connection:
        for url, status, duration, error in connection.execute(query):
            found.setdefault(url, []).append((status, duration, error))
    return found


def test_an_endpoint_failing_for_the_disable_time_is_disabled(request, tmp_path):
    """SPEC's 5 days made 0.5 s: an endpoint whose every attempt fails for that long is turned
    off with `failing`, and nothing more is posted to it."""
    herald = build_herald("embedded", tmp_path, request, **FAST, webhook_disable_after=0.5)
    try:
        client, receiver = _receiver_for(herald, tmp_path, mode="fail:1000")
        _send(client)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with herald.engine.connect() as connection:
                endpoint = connection.execute(
                    select(webhooks).where(webhooks.c.url == receiver.url)
                ).one()
            if not endpoint.enabled:
                break
            time.sleep(0.1)
        posts = len(receiver.got())
        time.sleep(1.5)
        assert len(receiver.got()) == posts  # nothing after it was turned off
    finally:
        receiver.stop()
        stop_herald(herald)
    assert not endpoint.enabled and endpoint.disabled == "failing", endpoint
