"""The `herald` command line (SPEC §5, §6), in-process through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import Result
from sqlalchemy import text

from shared.infra.broker import build_broker, enqueue_delivery
from shared.infra.config import Settings
from shared.infra.db import autocommit, check_schema
from shared.infra.errors import HeraldError
from shared.notifications.catalog import list_notifications
from shared.tenancy.projects import authenticate
from tests.support.backends import IN_CI, PG_ADMIN, REDIS_TEST, fresh_database
from tests.support.cli import run_herald
from tests.support.data import token

TWO_NOTIFICATIONS = """\
- id: welcome
  name: Welcome
  withEmail: true
  templates:
    en:
      email:
        subject: "Welcome, {{ firstName }}"
        text: "Glad you are here."
- id: order-shipped
  name: Order shipped
  withWidget: true
  withSMS: true
  templates:
    en:
      widget: {content: "Order {{ orderId }} shipped"}
      sms: {text: "Order {{ orderId }} shipped"}
"""

BROKEN_SECOND = """\
- id: fine
  name: Fine
  withSMS: true
  templates: {en: {sms: {text: "Hello"}}}
- id: broken
  name: Broken
  withEmail: true
  templates:
    en:
      email:
        subject: "Hi"
        html: "<p>\\n{% if %}\\n</p>"
"""


@pytest.fixture
def fresh_pg() -> str:
    """A fresh, empty PostgreSQL database of this test (never upgraded), dropped at its end."""
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI, but {PG_ADMIN}: {exc}")
        pytest.skip(f"PostgreSQL at {PG_ADMIN} unreachable: {exc}")
    with fresh_database("herald_cli") as url:
        yield url


def create_project_cli(name: str = "Acme") -> dict:
    result = run_herald("project", "create", name)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def import_into_new_project(tmp_path: Path, filename: str, content: str) -> tuple[str, Result]:
    """`herald notifications import` of a file holding `content` into a new project; the
    project's id and the command's result."""
    project_id = create_project_cli()["projectId"]
    path = tmp_path / filename
    path.write_text(content, encoding="utf-8")
    return project_id, run_herald("notifications", "import", str(path), "--project", project_id)


def assert_key_refused(engine, key: str) -> None:
    with autocommit(engine) as connection, pytest.raises(HeraldError) as refused:
        authenticate(connection, key)
    assert refused.value.code == "auth/invalid"


def project_of(engine, key: str) -> str:
    with autocommit(engine) as connection:
        return authenticate(connection, key).id


def test_project_create_prints_one_json_object_with_a_working_key(sqlite_url, engine_of):
    result = run_herald("project", "create", "Acme")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == {"projectId", "apiKey", "widgetSecret"}
    assert created["apiKey"].startswith("hk_")
    assert created["widgetSecret"]
    assert project_of(engine_of(sqlite_url), created["apiKey"]) == created["projectId"]


def test_key_create_gives_a_second_working_key(sqlite_url, engine_of):
    created = create_project_cli()
    result = run_herald("key", "create", created["projectId"])
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout)
    assert second["projectId"] == created["projectId"]
    assert second["apiKey"].startswith("hk_") and second["apiKey"] != created["apiKey"]
    engine = engine_of(sqlite_url)
    assert project_of(engine, second["apiKey"]) == created["projectId"]
    assert project_of(engine, created["apiKey"]) == created["projectId"]


def test_key_create_for_an_unknown_project_fails_clearly(sqlite_url):
    result = run_herald("key", "create", "nope")
    assert result.exit_code != 0
    assert "No project with id 'nope'" in result.output
    assert "Traceback" not in result.output


def test_key_revoke_refuses_that_key_and_keeps_the_others(sqlite_url, engine_of):
    created = create_project_cli()
    second = json.loads(run_herald("key", "create", created["projectId"]).stdout)["apiKey"]
    result = run_herald("key", "revoke", stdin=created["apiKey"] + "\n")
    assert result.exit_code == 0, result.output
    engine = engine_of(sqlite_url)
    assert_key_refused(engine, created["apiKey"])
    assert project_of(engine, second) == created["projectId"]
    again = run_herald("key", "revoke", stdin=created["apiKey"])
    assert again.exit_code != 0
    assert "No live API key matches" in again.output


def test_key_revoke_takes_no_key_on_the_command_line(sqlite_url, engine_of):
    created = create_project_cli()
    on_the_line = run_herald("key", "revoke", created["apiKey"])
    assert on_the_line.exit_code != 0
    assert project_of(engine_of(sqlite_url), created["apiKey"]) == created["projectId"]
    empty = run_herald("key", "revoke", stdin="")
    assert empty.exit_code != 0
    assert "standard input" in empty.output


def test_notifications_import_upserts_every_notification_of_a_yaml_file(
    sqlite_url, engine_of, tmp_path
):
    project_id, result = import_into_new_project(tmp_path, "notifications.yaml", TWO_NOTIFICATIONS)
    assert result.exit_code == 0, result.output
    with autocommit(engine_of(sqlite_url)) as connection:
        rows = list_notifications(connection, project_id)
    assert [(row.id, row.name) for row in rows] == [
        ("order-shipped", "Order shipped"),
        ("welcome", "Welcome"),
    ]
    shipped = rows[0]
    assert shipped.with_widget and shipped.with_sms and not shipped.with_email
    assert shipped.templates["en"]["sms"]["text"] == "Order {{ orderId }} shipped"


def test_notifications_import_reads_json_too(sqlite_url, engine_of, tmp_path):
    hello = {"id": "hello", "name": "Hello", "withSMS": True}
    content = json.dumps([{**hello, "templates": {"en": {"sms": {"text": "Hi"}}}}])
    project_id, result = import_into_new_project(tmp_path, "notifications.json", content)
    assert result.exit_code == 0, result.output
    with autocommit(engine_of(sqlite_url)) as connection:
        assert [row.id for row in list_notifications(connection, project_id)] == ["hello"]


def test_notifications_import_with_a_broken_template_imports_nothing(
    sqlite_url, engine_of, tmp_path
):
    project_id, result = import_into_new_project(tmp_path, "notifications.yaml", BROKEN_SECOND)
    assert result.exit_code != 0
    assert "template/invalid" in result.output
    assert "en.email.html" in result.output and "line 2" in result.output
    with autocommit(engine_of(sqlite_url)) as connection:
        assert list_notifications(connection, project_id) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id: lonely\nname: Lonely\n", "must hold a list"),
        ("- id: [unclosed\n", "is not JSON or YAML"),
        ("- {id: n, name: N, colour: red}\n", "colour/unknown"),
    ],
)
def test_notifications_import_of_a_bad_file_says_why(sqlite_url, tmp_path, content, expected):
    _, result = import_into_new_project(tmp_path, "bad.yaml", content)
    assert result.exit_code != 0
    assert expected in result.output
    assert "Traceback" not in result.output


def test_notifications_import_into_an_unknown_project_fails(sqlite_url, tmp_path):
    path = tmp_path / "notifications.yaml"
    path.write_text(TWO_NOTIFICATIONS, encoding="utf-8")
    result = run_herald("notifications", "import", str(path), "--project", "prj_nope")
    assert result.exit_code != 0
    assert "project/notFound" in result.output


def test_db_upgrade_brings_a_fresh_postgres_database_up_to_date(fresh_pg, engine_of, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", fresh_pg)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    result = run_herald("db", "upgrade")
    assert result.exit_code == 0, result.output
    check_schema(engine_of(Settings.from_env().database_url))
    # And the upgraded database takes a project
    created = create_project_cli()
    assert created["apiKey"].startswith("hk_")
    assert run_herald("db", "upgrade").exit_code == 0


def test_production_refuses_a_database_never_upgraded(fresh_pg, engine_of, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", fresh_pg)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    result = run_herald("project", "create", "Acme")
    assert result.exit_code != 0
    assert "run `herald db upgrade`" in result.output
    assert "Traceback" not in result.output
    engine = engine_of(Settings.from_env().database_url)
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        ).scalar_one()
    assert tables == 0


def test_queues_in_the_embedded_mode_counts_the_database_and_names_the_in_process_broker(
    sqlite_url,
):
    result = run_herald("queues")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["database"] == {"queued": 0, "scheduled": 0, "crashed": 0}
    assert report["broker"].startswith("in-process")


def test_queues_counts_the_jobs_waiting_in_redis(sqlite_url, monkeypatch):
    namespace = f"herald-cli-{token()}"
    monkeypatch.setenv("REDIS_URL", REDIS_TEST)
    monkeypatch.setenv("HERALD_REDIS_NAMESPACE", namespace)
    assert run_herald("db", "upgrade").exit_code == 0
    # Given two delivery jobs in Redis and no worker to take them
    broker = build_broker(Settings.from_env())
    enqueue_delivery(broker, 1)
    enqueue_delivery(broker, 2)
    try:
        result = run_herald("queues")
    finally:
        broker.client.delete(*broker.client.keys(f"{namespace}*"))
    # Then `herald queues` shows them ready
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["herald"] == {"ready": 2, "delayed": 0, "inProgress": 0, "deadLetters": 0}
    assert report["database"] == {"queued": 0, "scheduled": 0, "crashed": 0}
