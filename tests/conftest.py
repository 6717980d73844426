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
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import phonenumbers
import psycopg
import pytest
import redis
from sqlalchemy import create_engine, text

from api import create_app
from shared.config import Settings
from shared.db import transaction
from shared.projects import create_project
from worker.runtime import start_worker

PG_ADMIN = os.environ.get("HERALD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST = os.environ.get("HERALD_TEST_REDIS", "redis://127.0.0.1:6379/15")
SENDER = "sender@herald.example.com"
IN_CI = bool(os.environ.get("CI"))

logging.getLogger("werkzeug").setLevel(logging.WARNING)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def _services_up() -> str | None:
    """None when PostgreSQL and Redis answer, else what is down."""
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at {PG_ADMIN}: {exc}"
    try:
        redis.Redis.from_url(REDIS_TEST, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis at {REDIS_TEST}: {exc}"
    return None


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


def moto_sent(moto_url: str) -> tuple[list[dict], list[dict]]:
    """What moto recorded: (e-mails, SMS)."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json") as response:
        data = json.load(response)
    return data.get("ses", {}).get("Message", []), data.get("sns", {}).get("SMS", [])


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this session, dropped at its end."""
    with fresh_database("herald_test") as url:
        yield url


@contextlib.contextmanager
def fresh_database(prefix: str):
    """Create an empty PostgreSQL database; drop it on the way out."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Herald:
    """One running Herald of a mode, as the tests see it."""

    mode: str
    settings: Settings
    app: object
    outbox: Path
    moto_url: str | None = None
    extras: dict = field(default_factory=dict)

    @property
    def engine(self):
        return self.app.extensions["herald"]["engine"]

    @property
    def broker(self):
        return self.app.extensions["herald"]["broker"]


def build_herald(mode: str, tmp: Path, request, **overrides) -> Herald:
    """Start a Herald of this mode with its worker pool (a Redis namespace of its own, so that
    two Heralds, of one test session or of two, never take each other's jobs)."""
    if mode == "embedded":
        settings = Settings(
            database_url=f"sqlite:///{tmp / 'herald.db'}", outbox_dir=tmp / "outbox", **overrides
        )
        app = create_app(settings)
        return Herald(mode, settings, app, settings.outbox_dir)
    down = _services_up()
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
    from shared.db import make_engine, upgrade

    upgrade(make_engine(settings))
    app = create_app(settings, run_worker=False)
    worker = start_worker(
        app.extensions["herald"]["broker"], settings, app.extensions["herald"]["engine"]
    )
    app.extensions["herald"]["worker"] = worker
    return Herald(mode, settings, app, settings.outbox_dir, moto_url)


def stop_herald(herald: Herald) -> None:
    worker = herald.app.extensions["herald"].get("worker")
    if worker is not None:
        worker.stop()
    herald.engine.dispose()


@pytest.fixture(scope="session", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A running Herald, once per mode."""
    instance = build_herald(request.param, tmp_path_factory.mktemp(request.param), request)
    yield instance
    stop_herald(instance)


@pytest.fixture
def project(herald):
    """A fresh project of this test: {"projectId", "apiKey", "widgetSecret"}."""
    with transaction(herald.engine) as connection:
        return create_project(
            connection, f"test-{secrets.token_hex(3)}", SENDER, "Herald Tests", "Herald"
        )


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
