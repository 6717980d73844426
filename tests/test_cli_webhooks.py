"""`herald webhooks add|list|remove|replay` (SPEC §9), in-process through CliRunner on the
embedded mode's SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click import BadParameter
from sqlalchemy import select, update

from api.cli.webhooks import parse_since
from shared.infra.db import transaction
from shared.infra.models import utcnow
from shared.webhooks import webhook_deliveries, webhook_events, webhooks
from shared.webhooks.events import record_event
from tests.support.cli import run_herald

URL = "https://8.8.8.8/hook"  # public: refused for nothing, looked up by no one


def herald_json(*args: str) -> dict:
    result = run_herald(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def new_project() -> str:
    return herald_json("project", "create", "Acme")["projectId"]


def test_add_prints_the_secret_once_list_never_remove_removes(sqlite_url):
    project_id = new_project()
    added = herald_json("webhooks", "add", project_id, "--url", URL, "--events", "message.sent")
    hook = added["webhook"]
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["message.sent"]
    listed = herald_json("webhooks", "list", project_id)["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert herald_json("webhooks", "remove", project_id, hook["id"])["removed"] == hook["id"]
    assert herald_json("webhooks", "list", project_id)["webhooks"] == []
    again = run_herald("webhooks", "remove", project_id, hook["id"])
    assert again.exit_code != 0 and "webhook/notFound" in again.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--url", "http://8.8.8.8/hook"), "url/invalid"),
        (("--url", "https://127.0.0.1/hook"), "url/private"),
        (("--url", URL, "--events", "message.exploded"), "events/unknown"),
    ],
)
def test_add_refuses_what_the_api_refuses(sqlite_url, args, code):
    project_id = new_project()
    result = run_herald("webhooks", "add", project_id, *args)
    assert result.exit_code != 0 and code in result.output
    assert herald_json("webhooks", "list", project_id)["webhooks"] == []


def test_an_unknown_project_is_named(sqlite_url):
    for args in (("add", "prj_nope", "--url", URL), ("list", "prj_nope")):
        result = run_herald("webhooks", *args)
        assert result.exit_code != 0 and "project/notFound" in result.output


def test_replay_sends_again_to_one_endpoint_or_to_each_that_wants_it(sqlite_url, engine_of):
    project_id = new_project()
    one = herald_json("webhooks", "add", project_id, "--url", URL)["webhook"]
    two = herald_json("webhooks", "add", project_id, "--url", URL, "--events", "message.read")
    engine, now = engine_of(sqlite_url), utcnow()
    with transaction(engine) as connection:
        sent = record_event(connection, project_id, "message.sent", {})
        read = record_event(connection, project_id, "message.read", {})
        connection.execute(update(webhook_events).values(dispatched_at=now))
    # The named endpoint: both events; then each endpoint: the first again, the second its one
    assert replayed(project_id, "--webhook", one["id"]) == 2
    assert replayed(project_id) == 3
    with engine.connect() as connection:
        d, e, w = webhook_deliveries, webhook_events, webhooks
        query = select(w.c.id, e.c.id, d.c.status, d.c.attempts).join(e).join(w)
        rows = {(row[0], row[1]): row[2:] for row in connection.execute(query)}
    pending = ("pending", 0)
    assert rows == {
        (one["id"], sent): pending,
        (one["id"], read): pending,
        (two["webhook"]["id"], read): pending,
    }
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()  # after every event
    assert replayed(project_id, since=later) == 0


def replayed(project_id: str, *args: str, since: str = "1h") -> int:
    return herald_json("webhooks", "replay", project_id, "--since", since, *args)["pending"]


def test_since_takes_an_iso_time_or_a_span():
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("2026-05-01T10:00:00") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert parse_since("2026-05-01T10:00:00+02:00").utcoffset() == timedelta(hours=2)
    with pytest.raises(BadParameter):
        parse_since("yesterday")
