"""The operator page `/ops` and dead letters: sign-in, figures, requeue, and a real browser."""

from __future__ import annotations

import contextlib
import json
import time

import dramatiq
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from api import create_app
from api.cli import main
from shared.infra.broker import QUEUE, enqueue_delivery
from shared.operations.queues import dead_letters, queue_depths
from tests.support.calls import Client, send, until_final, upsert_notification
from tests.support.data import token
from tests.support.herald import running_herald
from tests.support.received import emails_sent

OPS_TOKEN = "ops-" + "s3cret"
NOTIFICATION = {
    "id": "digest",
    "name": "Digest",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Digest", "text": "{{ 100 // parts }} each"}}},
}


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the operator page on, answering a send within 2 seconds."""
    with running_herald(request, tmp_path_factory, ops_token=OPS_TOKEN, send_wait=2.0) as instance:
        yield instance


@pytest.fixture
def client(client):
    """The project's client, with the digest notification upserted."""
    upsert_notification(client, NOTIFICATION)
    return client


def send_digest(client: Client, parts: int = 4, address: str | None = None) -> dict:
    """Send one digest by e-mail (`parts=0` fails to render); its `messages.send` result."""
    item = {
        "notificationId": "digest",
        "userId": f"u-{token()}",
        "userEmail": address or f"r.{token()}@example.com",
        "data": {"parts": parts},
    }
    return send(client, item)[0]


def dead_letter(broker, message_pk: int) -> None:
    """Put a delivery job in the dead-letter queue as Dramatiq does: consume it, then nack it."""
    enqueue_delivery(broker, message_pk)
    consumer = broker.consume(QUEUE, prefetch=1, timeout=500)
    try:
        for _ in range(40):
            job = next(consumer)
            if job is not None and job.args == (message_pk,):
                consumer.nack(job)
                return
            if job is not None:  # another test's job: give it back
                consumer.requeue([job])
    finally:
        consumer.close()
    raise AssertionError("the job never reached the consumer")


@contextlib.contextmanager
def worker_stopped(herald):
    """No worker takes a job inside the block (so the test's consumer gets its own); a fresh
    worker runs after it."""
    held = herald.app.extensions["herald"]
    held.pop("worker").stop()
    try:
        yield
    finally:
        held["worker"] = dramatiq.Worker(herald.broker, worker_threads=4, worker_timeout=20)
        held["worker"].start()


def wait_queue_empty(broker, wait: float = 10) -> None:
    """Until no delivery job is ready or in progress."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        depths = queue_depths(broker)
        if depths["ready"] == 0 and depths["inProgress"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"the queue did not empty: {queue_depths(broker)}")


def emails_to(herald, address: str) -> int:
    """E-mails the provider took for this address."""
    return sum(address in email["to"] for email in emails_sent(herald))


@pytest.mark.api
def test_ops_is_off_without_a_token(tmp_path):
    from shared.infra.config import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"), run_worker=False)
    for path in ("/ops", "/ops/data"):
        response = app.test_client().get(path, headers={"Authorization": "Bearer x"})
        assert response.status_code == 404
        assert response.get_json()["error"] == "route/notFound"


def test_ops_takes_a_bearer_token_or_a_session_cookie(herald):
    flask = herald.app.test_client()
    assert "Operator token" in flask.get("/ops").get_data(as_text=True)
    assert flask.get("/ops/data").get_json()["error"] == "auth/missing"
    wrong = flask.get("/ops/data", headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.get_json()["error"]) == (401, "auth/invalid")
    bearer = flask.get("/ops/data", headers={"Authorization": f"Bearer {OPS_TOKEN}"})
    assert bearer.status_code == 200 and "queue" in bearer.get_json()
    assert flask.post("/ops/login", data={"token": "nope"}).status_code == 401
    signed_in = flask.post("/ops/login", data={"token": OPS_TOKEN})
    assert signed_in.status_code == 303
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and OPS_TOKEN not in cookie
    assert flask.get("/ops/data").status_code == 200
    assert "chart-outcomes" in flask.get("/ops").get_data(as_text=True)


def test_a_dead_letter_is_delivered_once_by_requeue(herald, client, monkeypatch):
    # Given a message whose delivery job was dead-lettered before any worker ran it
    address = f"dead.{token()}@example.com"
    with worker_stopped(herald):
        queued = send_digest(client, address=address)
        assert queued["status"] == "queued"
        pk = _pk(herald, queued["id"])
        _drain(herald.broker)
        dead_letter(herald.broker, pk)
    assert [letter.message_pk for letter in dead_letters(herald.broker)] == [pk]
    # When the operator requeues it (the command line in production, /ops in both modes)
    if herald.mode == "production":
        _cli_env(monkeypatch, herald)
        result = CliRunner().invoke(main, ["queues", "requeue", "--message-id", queued["id"]])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"requeued": 1}
    else:
        assert _requeue(herald) == {"ok": True, "requeued": 1}
    # Then it is delivered once
    delivered = until_final(client, queued["id"])
    assert delivered["status"] == "sent"
    assert delivered["channels"]["email"]["status"] == "sent"
    assert emails_to(herald, address) == 1
    # And a dead letter of the sent message, requeued, sends nothing again
    with worker_stopped(herald):
        dead_letter(herald.broker, pk)
    assert _requeue(herald) == {"ok": True, "requeued": 1}
    wait_queue_empty(herald.broker)
    assert dead_letters(herald.broker) == []
    assert emails_to(herald, address) == 1


def _pk(herald, message_id: str) -> int:
    from sqlalchemy import select

    from shared.infra.models import messages

    with herald.engine.connect() as connection:
        return connection.execute(select(messages.c.pk).where(messages.c.id == message_id)).one()[0]


def _drain(broker) -> None:
    """Leave no other job in the queue before the test's own."""
    if hasattr(broker, "flush"):
        broker.flush(QUEUE)
    else:
        broker.flush_all()


def _requeue(herald, message_id: str | None = None) -> dict:
    body = {"messageId": message_id} if message_id else {}
    response = herald.app.test_client().post(
        "/ops/requeue", json=body, headers={"Authorization": f"Bearer {OPS_TOKEN}"}
    )
    return response.get_json()


def _cli_env(monkeypatch, herald) -> None:
    monkeypatch.setenv("DATABASE_URL", herald.settings.database_url)
    monkeypatch.setenv("REDIS_URL", herald.settings.redis_url)
    monkeypatch.setenv("HERALD_REDIS_NAMESPACE", herald.settings.redis_namespace)


def test_ops_renders_in_chromium_with_data_after_a_batch(
    herald, client, herald_url, page, screenshots
):
    # Given a batch: most sent, a few failing to render, and one dead letter
    results = [send_digest(client, parts=0 if i % 7 == 0 else 4) for i in range(30)]
    assert {r["status"] for r in results} == {"sent", "failed"}
    with worker_stopped(herald):
        dead_letter(herald.broker, _pk(herald, results[1]["id"]))
    # When the operator signs in and the page loads its figures
    page.set_default_timeout(60_000)
    page.goto(f"{herald_url}/ops")
    page.fill("#token", OPS_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-loaded=true]")
    # Then it shows the batch, the provider latency and the dead letter
    assert int(page.inner_text("#q-deadLetters")) == 1
    assert page.locator("#chart-outcomes rect.sent").count() >= 1
    assert page.locator("#chart-outcomes rect.failed").count() >= 1
    assert "calls" in page.inner_text("#latency")
    first = herald.settings.email_providers[0].name
    assert first in page.inner_text("#providers") and "closed" in page.inner_text("#providers")
    assert results[1]["id"] in page.inner_text("#letters")
    if herald.mode == "embedded":  # the README's pictures, in the light and the dark theme
        page.screenshot(path=str(screenshots / "ops.png"), full_page=True)
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(screenshots / "ops-dark.png"), full_page=True)
        page.emulate_media(color_scheme="light")
    # And its requeue button empties the dead letters, the page refreshing by itself
    page.click("#letters button")
    # (a locator's wait: a wait_for_function string is an eval, which the page's policy refuses)
    expect(page.locator("#q-deadLetters")).to_have_text("0", timeout=60_000)


def test_ops_and_metrics_show_each_default_provider_with_its_circuit(herald, client):
    from prometheus_client.parser import text_string_to_metric_families

    flask = herald.app.test_client()
    assert flask.post("/ops/login", data={"token": OPS_TOKEN}).status_code == 303

    def providers() -> dict:
        found = flask.get("/ops/data").get_json()["providers"]
        return {(entry["channel"], entry["name"]): entry for entry in found}

    before = providers()
    # When one e-mail is sent
    assert send_digest(client)["status"] == "sent"
    after = providers()
    # Then the page lists the default chains' providers, the e-mail's first with one more send
    settings = herald.settings
    assert list(after) == [
        (channel, u.name) for channel, urls in settings.chains.items() for u in urls
    ]
    first = settings.email_providers[0]
    entry = after[("email", first.name)]
    assert entry["sent"] - before[("email", first.name)]["sent"] == 1
    assert (entry["state"], entry["kind"], entry["url"]) == ("closed", first.kind, first.masked)
    assert entry["meanSeconds"] is not None and entry["failures"] == 0
    # And /metrics has the attempt and the circuit's state
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(flask.get("/metrics").get_data(as_text=True))
        for sample in family.samples
    }
    labels = (("channel", "email"), ("provider", first.name))
    assert samples[("herald_provider_circuit_state", labels)] == 0
    assert (
        samples[("herald_provider_attempts_total", (*labels[:1], ("outcome", "sent"), labels[1]))]
        >= 1
    )
    assert samples[("herald_provider_attempt_seconds_count", labels)] >= 1
