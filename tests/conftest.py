"""Fixtures: every behaviour test runs in both modes.

- embedded: SQLite file, in-process broker and worker, outbox providers.
- production: PostgreSQL (a fresh database per session), Redis (the broker and the results),
  SES v2 and SNS through boto3 against moto's server on loopback. Required when CI is set,
  skipped with a clear line otherwise when PostgreSQL or Redis can't be reached.

Apps live for the session; each test gets its own project, which isolates its data.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import dramatiq
import phonenumbers
import pytest
from sqlalchemy import Engine

from api import create_app
from api.http.requests import Services, services
from shared.infra.config import Settings
from shared.infra.db import make_engine, transaction, upgrade
from shared.tenancy.projects import authenticate, create_project
from shared.tenancy.senders import add_sender
from tests.backends import IN_CI, REDIS_TEST, backends_down, fresh_database
from worker.runtime import start_worker

SENDER = "sender@herald.example.com"
# The browser fixtures (one Chromium for the whole session, whichever modules use it).
pytest_plugins = ["tests.browser"]

logging.getLogger("werkzeug").setLevel(logging.WARNING)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def moto_url():
    """moto's server on a free loopback port, with the test sender verified in SES."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("ses", endpoint_url=url, region_name="us-east-1").verify_email_identity(
        EmailAddress=SENDER
    )
    yield url
    server.stop()


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this session, dropped at its end."""
    with fresh_database("herald_test") as url:
        yield url


@dataclass
class Herald:
    """One running Herald of a mode, as the tests see it."""

    mode: str
    settings: Settings
    app: object
    outbox: Path
    moto_url: str | None = None

    @property
    def services(self) -> Services:
        """The settings, engine and broker the app runs on now, read as the views read them."""
        with self.app.app_context():
            return services()

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def broker(self) -> dramatiq.Broker:
        return self.services.broker


def build_herald(mode: str, tmp: Path, request, **overrides) -> Herald:
    """Start a Herald of this mode with its worker pool (a Redis namespace of its own, so that
    two Heralds, of one test session or of two, never take each other's jobs)."""
    if mode == "embedded":
        # as `herald serve` on loopback: the demo on
        overrides = {"demo": True, **overrides}
        settings = Settings(
            database_url=f"sqlite:///{tmp / 'herald.db'}", outbox_dir=tmp / "outbox", **overrides
        )
        app = create_app(settings)
        return Herald(mode, settings, app, settings.outbox_dir)
    down = backends_down()
    if down:
        if IN_CI:
            pytest.fail(f"production mode is required in CI, but {down}")
        pytest.skip(f"production mode skipped: {down}")
    moto_url = overrides.pop("aws_endpoint_url", None) or request.getfixturevalue("moto_url")
    pg = request.getfixturevalue("pg_database")
    overrides = {"email_provider": "ses", "sms_provider": "sns", **overrides}
    settings = Settings(
        database_url=pg,
        redis_url=REDIS_TEST,
        redis_namespace=f"herald-test-{secrets.token_hex(4)}",
        aws_endpoint_url=moto_url,
        outbox_dir=tmp / "outbox",
        **overrides,
    )
    upgrade(make_engine(settings))
    herald = Herald(
        mode, settings, create_app(settings, run_worker=False), tmp / "outbox", moto_url
    )
    herald.app.extensions["herald"]["worker"] = start_worker(herald.broker, settings, herald.engine)
    return herald


@contextlib.contextmanager
def swapped(herald: Herald, **services):
    """Inside the block the app runs on these services (`settings`, `engine`, `broker`)."""
    held = herald.app.extensions["herald"]
    saved = dict(held)
    held.update(services)
    try:
        yield
    finally:
        held.clear()
        held.update(saved)


def stop_herald(herald: Herald) -> None:
    worker = herald.app.extensions["herald"].get("worker")
    if worker is not None:
        worker.stop()
    herald.engine.dispose()


@contextlib.contextmanager
def running_herald(request, tmp_path_factory, **overrides):
    """A Herald of the mode the fixture is parametrised with, these settings on top; stopped
    at the end of the block."""
    instance = build_herald(
        request.param, tmp_path_factory.mktemp(request.param), request, **overrides
    )
    try:
        yield instance
    finally:
        stop_herald(instance)


@pytest.fixture(scope="session", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A running Herald, once per mode."""
    with running_herald(request, tmp_path_factory) as instance:
        yield instance


def new_project(herald: Herald, name: str = "test") -> dict:
    """A new project sending from the verified test sender: {"projectId", "apiKey", ...}."""
    with transaction(herald.engine) as connection:
        return create_project(connection, f"{name}-{token()}", SENDER, "Herald Tests", "Herald")


def allow_sender(herald: Herald, client: Client, sender: str) -> None:
    """Let the client's project send from this address or domain (`herald senders add`)."""
    with transaction(herald.engine) as connection:
        add_sender(connection, authenticate(connection, client.key).id, sender)


@pytest.fixture
def project(herald):
    """A fresh project of this test: {"projectId", "apiKey", "widgetSecret"}."""
    return new_project(herald)


class Client:
    """The Flask test client with the project's key on every call."""

    def __init__(self, app, key: str | None) -> None:
        self.flask = app.test_client()
        self.key = key

    def _headers(self, headers):
        base = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return {**base, **(headers or {})}

    def post(self, path: str, body=None, *, data=None, headers=None):
        if data is None:
            data = json.dumps(body)
        return self.flask.post(path, data=data, headers=self._headers(headers))

    def get(self, path: str, headers=None, **params):
        return self.flask.get(path, query_string=params, headers=self._headers(headers))


@pytest.fixture
def client(herald, project):
    """A client acting for this test's project."""
    return Client(herald.app, project["apiKey"])


def token() -> str:
    """A short random token to make ids, addresses and numbers unique to a test."""
    return secrets.token_hex(4)


def phone() -> str:
    """A valid, unique-enough UK mobile number in E.164."""
    while True:
        number = f"+4479{secrets.randbelow(10**8):08d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number


def notification(notification_id: str = "welcome", **fields) -> dict:
    """The standard notification: e-mail, SMS and widget in English, with `fields` on top."""
    return {
        "id": notification_id,
        "name": "Welcome",
        "withEmail": True,
        "withSMS": True,
        "withWidget": True,
        "defaultLanguage": "en",
        "templates": {
            "en": {
                "email": {
                    "subject": "Hello {{ firstName }}",
                    "html": "<p>Hi {{ firstName }}, your code is {{ code }}</p>",
                    "text": "Hi {{ firstName }}: {{ code }}",
                },
                "sms": {"text": "{{ firstName }}, your code is {{ code }}"},
                "widget": {"content": "Welcome <b>{{ firstName }}</b> #{{ increment }}"},
            },
        },
        **fields,
    }


def widget_notification(notification_id: str, content: str = "Hi") -> dict:
    """A widget-only notification, which needs no e-mail or SMS provider."""
    return {
        "id": notification_id,
        "name": "N",
        "withWidget": True,
        "templates": {"en": {"widget": {"content": content}}},
    }


def comment_notification(widget_content: str) -> dict:
    """`comment`: a widget with a link and an e-mail, both mutable by the user, no SMS."""
    return notification(
        "comment",
        name="Comments",
        withSMS=False,
        allowMuteWidget=True,
        allowMuteEmail=True,
        templates={
            "en": {
                "widget": {"content": widget_content, "link": "/c"},
                "email": {"subject": "New comment", "text": "{{ author }} commented"},
            }
        },
    )


def answer(response, status: int = 200) -> dict:
    """The JSON body of a response that must have this status."""
    assert response.status_code == status, response.get_json()
    return response.get_json()


def upsert_notification(client: Client, body: dict) -> dict:
    """Upsert one notification, which must be accepted; its stored form."""
    return answer(client.post("/notifications.upsert", body))["notification"]


def upsert_users(client: Client, *users: dict) -> list[dict]:
    """Upsert users in one batch; the per-user results."""
    return answer(client.post("/users.upsert", {"users": list(users)}))["results"]


def send(client: Client, *items: dict) -> list[dict]:
    """Send messages in one batch; the per-message results, in request order."""
    return answer(client.post("/messages.send", {"messages": list(items)}))["results"]


def until_final(
    client: Client, message_id: str, done: Callable[[dict], bool] | None = None, wait: float = 10
) -> dict:
    """The message once `done` holds for it (by default: once it is no longer queued or
    scheduled, i.e. sent or failed), or as it is after `wait` seconds."""
    done = done or (lambda message: message["status"] not in ("queued", "scheduled"))
    deadline = time.monotonic() + wait
    while True:
        message = answer(client.get("/messages.get", id=message_id))["message"]
        if done(message) or time.monotonic() > deadline:
            return message
        time.sleep(0.05)
