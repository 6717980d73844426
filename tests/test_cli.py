"""The `herald` command line (SPEC §5, §6), in-process through CliRunner and as a real server."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from api.cli import main
from shared.config import Settings
from shared.db import autocommit, check_schema, make_engine
from shared.errors import HeraldError
from shared.notifications import list_notifications
from shared.projects import authenticate
from tests.conftest import IN_CI, PG_ADMIN, fresh_database

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
def sqlite_url(tmp_path, monkeypatch) -> str:
    """The CLI's environment: a fresh SQLite file and no broker (the embedded mode)."""
    url = f"sqlite:///{tmp_path / 'herald.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("REDIS_URL", "HERALD_EMAIL_PROVIDER", "HERALD_SMS_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    return url


@pytest.fixture
def engine_of():
    """Open engines on a database URL for checks; disposed at the end of the test."""
    engines = []

    def open_engine(url: str):
        engine = make_engine(Settings(database_url=url))
        engines.append(engine)
        return engine

    yield open_engine
    for engine in engines:
        engine.dispose()


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


def herald(*args: str):
    """Run `herald ARGS` in this process."""
    return CliRunner().invoke(main, list(args))


def create_project_cli(name: str = "Acme") -> dict:
    result = herald("project", "create", name)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_key_refused(engine, key: str) -> None:
    with autocommit(engine) as connection, pytest.raises(HeraldError) as refused:
        authenticate(connection, key)
    assert refused.value.code == "auth/invalid"


def project_of(engine, key: str) -> str:
    with autocommit(engine) as connection:
        return authenticate(connection, key).id


def test_project_create_prints_one_json_object_with_a_working_key(sqlite_url, engine_of):
    result = herald("project", "create", "Acme")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == {"projectId", "apiKey", "widgetSecret"}
    assert created["apiKey"].startswith("hk_")
    assert created["widgetSecret"]
    assert project_of(engine_of(sqlite_url), created["apiKey"]) == created["projectId"]


def test_key_create_gives_a_second_working_key(sqlite_url, engine_of):
    created = create_project_cli()
    result = herald("key", "create", created["projectId"])
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout)
    assert second["projectId"] == created["projectId"]
    assert second["apiKey"].startswith("hk_") and second["apiKey"] != created["apiKey"]
    engine = engine_of(sqlite_url)
    assert project_of(engine, second["apiKey"]) == created["projectId"]
    assert project_of(engine, created["apiKey"]) == created["projectId"]


def test_key_create_for_an_unknown_project_fails_clearly(sqlite_url):
    result = herald("key", "create", "nope")
    assert result.exit_code != 0
    assert "No project with id 'nope'" in result.output
    assert "Traceback" not in result.output


def test_key_revoke_refuses_that_key_and_keeps_the_others(sqlite_url, engine_of):
    created = create_project_cli()
    second = json.loads(herald("key", "create", created["projectId"]).stdout)["apiKey"]
    result = herald("key", "revoke", created["apiKey"])
    assert result.exit_code == 0, result.output
    engine = engine_of(sqlite_url)
    assert_key_refused(engine, created["apiKey"])
    assert project_of(engine, second) == created["projectId"]
    again = herald("key", "revoke", created["apiKey"])
    assert again.exit_code != 0
    assert "No live API key matches" in again.output


def test_notifications_import_upserts_every_notification_of_a_yaml_file(
    sqlite_url, engine_of, tmp_path
):
    created = create_project_cli()
    path = tmp_path / "notifications.yaml"
    path.write_text(TWO_NOTIFICATIONS, encoding="utf-8")
    result = herald("notifications", "import", str(path), "--project", created["projectId"])
    assert result.exit_code == 0, result.output
    with autocommit(engine_of(sqlite_url)) as connection:
        rows = list_notifications(connection, created["projectId"])
    assert [(row.id, row.name) for row in rows] == [
        ("order-shipped", "Order shipped"),
        ("welcome", "Welcome"),
    ]
    shipped = rows[0]
    assert shipped.with_widget and shipped.with_sms and not shipped.with_email
    assert shipped.templates["en"]["sms"]["text"] == "Order {{ orderId }} shipped"


def test_notifications_import_reads_json_too(sqlite_url, engine_of, tmp_path):
    created = create_project_cli()
    path = tmp_path / "notifications.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "hello",
                    "name": "Hello",
                    "withSMS": True,
                    "templates": {"en": {"sms": {"text": "Hi"}}},
                }
            ]
        )
    )
    result = herald("notifications", "import", str(path), "--project", created["projectId"])
    assert result.exit_code == 0, result.output
    with autocommit(engine_of(sqlite_url)) as connection:
        assert [row.id for row in list_notifications(connection, created["projectId"])] == ["hello"]


def test_notifications_import_with_a_broken_template_imports_nothing(
    sqlite_url, engine_of, tmp_path
):
    created = create_project_cli()
    path = tmp_path / "notifications.yaml"
    path.write_text(BROKEN_SECOND, encoding="utf-8")
    result = herald("notifications", "import", str(path), "--project", created["projectId"])
    assert result.exit_code != 0
    assert "template/invalid" in result.output
    assert "en.email.html" in result.output and "line 2" in result.output
    with autocommit(engine_of(sqlite_url)) as connection:
        assert list_notifications(connection, created["projectId"]) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id: lonely\nname: Lonely\n", "must hold a list"),
        ("- id: [unclosed\n", "is not JSON or YAML"),
        ("- {id: n, name: N, colour: red}\n", "colour/unknown"),
    ],
)
def test_notifications_import_of_a_bad_file_says_why(sqlite_url, tmp_path, content, expected):
    created = create_project_cli()
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    result = herald("notifications", "import", str(path), "--project", created["projectId"])
    assert result.exit_code != 0
    assert expected in result.output
    assert "Traceback" not in result.output


def test_notifications_import_into_an_unknown_project_fails(sqlite_url, tmp_path):
    path = tmp_path / "notifications.yaml"
    path.write_text(TWO_NOTIFICATIONS, encoding="utf-8")
    result = herald("notifications", "import", str(path), "--project", "prj_nope")
    assert result.exit_code != 0
    assert "project/notFound" in result.output


def test_db_upgrade_brings_a_fresh_postgres_database_up_to_date(fresh_pg, engine_of, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", fresh_pg)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    result = herald("db", "upgrade")
    assert result.exit_code == 0, result.output
    check_schema(engine_of(Settings.from_env().database_url))
    # And the upgraded database takes a project
    created = create_project_cli()
    assert created["apiKey"].startswith("hk_")
    assert herald("db", "upgrade").exit_code == 0


def test_production_refuses_a_database_never_upgraded(fresh_pg, engine_of, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", fresh_pg)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    result = herald("project", "create", "Acme")
    assert result.exit_code != 0
    assert "run `herald db upgrade`" in result.output
    assert "Traceback" not in result.output
    engine = engine_of(Settings.from_env().database_url)
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        ).scalar_one()
    assert tables == 0


# End to end: the installed console script, a real server, the embedded default.


def herald_script() -> str:
    """The installed `herald` console script of this virtualenv."""
    beside = Path(sys.executable).parent / "herald"
    found = str(beside) if beside.exists() else shutil.which("herald")
    if found is None:
        pytest.fail("the `herald` console script is not installed; run pip install -e .")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base: str, path: str, key: str, body: dict | None = None) -> dict:
    """One backend API call over HTTP; answers the JSON body (of a 4xx too)."""
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        pytest.fail(f"{path} answered {error.code}: {error.read().decode()}")


@pytest.fixture
def served(tmp_path_factory):
    """`herald serve` as a real process in an empty folder with no configuration at all."""
    cwd = tmp_path_factory.mktemp("served")
    logs = tmp_path_factory.mktemp("served-logs") / "serve.log"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HERALD_")
        and name not in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL")
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with logs.open("wb") as log:
        process = subprocess.Popen(
            [herald_script(), "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"herald serve exited with {process.returncode}:\n{logs.read_text()}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"herald serve did not answer /healthz in 30 s:\n{logs.read_text()}")
            time.sleep(0.1)
        yield {"base": base, "cwd": cwd, "env": env}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_serve_with_no_configuration_sends_to_the_outbox(served):
    cwd, base = served["cwd"], served["base"]
    # Given the embedded default created its own SQLite file
    assert (cwd / "var" / "herald.db").is_file()
    # And a project made with the command line in the same folder
    made = subprocess.run(
        [herald_script(), "project", "create", "E2E", "--email-from", "hello@herald.example.com"],
        cwd=cwd,
        env=served["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["apiKey"]
    # When a notification on all three channels is sent to a user with e-mail and telephone
    call(
        base,
        "/notifications.upsert",
        key,
        {
            "id": "order-shipped",
            "name": "Order shipped",
            "withWidget": True,
            "withEmail": True,
            "withSMS": True,
            "templates": {
                "en": {
                    "widget": {"content": "Order {{ orderId }} shipped"},
                    "email": {
                        "subject": "Order {{ orderId }} for {{ firstName }}",
                        "html": "<p>Hi {{ firstName }}</p>",
                        "text": "Hi {{ firstName }}",
                    },
                    "sms": {"text": "{{ firstName }}, order {{ orderId }} is on its way"},
                }
            },
        },
    )
    upserted = call(
        base,
        "/users.upsert",
        key,
        {
            "users": [
                {
                    "id": "ann",
                    "email": "ann@example.com",
                    "telephone": "+447911123456",
                    "firstName": "Ann",
                }
            ]
        },
    )
    assert upserted["results"] == [{"id": "ann", "ok": True, "created": True}]
    sent = call(
        base,
        "/messages.send",
        key,
        {
            "messages": [
                {"notificationId": "order-shipped", "userId": "ann", "data": {"orderId": "A-42"}}
            ]
        },
    )
    # Then the answer tells it was sent on every channel
    [result] = sent["results"]
    assert result["ok"] is True and result["status"] == "sent", result
    assert {name: channel["status"] for name, channel in result["channels"].items()} == {
        "email": "sent",
        "sms": "sent",
        "widget": "sent",
    }
    # And the outbox holds the e-mail and the SMS, rendered
    outbox = cwd / "var" / "outbox"
    [eml] = list(outbox.rglob("*.eml"))
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert mail["Subject"] == "Order A-42 for Ann"
    assert mail["To"] == "ann@example.com"
    [line] = (outbox / "sms.log").read_text(encoding="utf-8").splitlines()
    sms = json.loads(line)
    assert sms["text"] == "Ann, order A-42 is on its way"
    assert sms["to"] == "+447911123456"
