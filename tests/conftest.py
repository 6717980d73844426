"""Fixtures: every behaviour test runs in both modes.

- embedded: SQLite file, in-process broker and worker, outbox providers.
- production: PostgreSQL (a fresh database per session), Redis (the broker and the results),
  SES v2 and SNS through boto3 against moto's server on loopback. Required when CI is set,
  skipped with a clear line otherwise when PostgreSQL or Redis can't be reached.

Apps live for the session; each test gets its own project, which isolates its data. What
the tests call besides fixtures is in `tests/support/`.

Each test has one kind, a marker (`pytest -m "not browser"`, `pytest -m unit`): `process` when
it says so (it starts real processes), else `browser` when it drives Chromium, `api` when it
asks for a fixture of ours (a Herald, its backends, a stand-in), `unit` when it asks for none.
"""

from __future__ import annotations

import logging
import os

import boto3
import pytest

from shared.infra.config import Settings
from shared.infra.db import make_engine
from tests.support.backends import fresh_database
from tests.support.calls import Client, upsert_notification
from tests.support.data import SENDER
from tests.support.herald import new_project, running_herald
from tests.support.processes import CountingStandIn
from tests.support.servers import ALERT, standin_herald

# The browser fixtures (one Chromium for the whole session, whichever modules use it).
pytest_plugins = ["tests.support.browser"]

KINDS = ("unit", "api", "process", "browser")

logging.getLogger("werkzeug").setLevel(logging.WARNING)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def moto():
    """moto's server on a free loopback port, with the test sender verified in SES: its URL."""
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


@pytest.fixture(scope="session", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A running Herald, once per mode."""
    with running_herald(request, tmp_path_factory) as instance:
        yield instance


@pytest.fixture
def project(herald):
    """A fresh project of this test: {"projectId", "apiKey", "widgetSecret"}."""
    return new_project(herald)


@pytest.fixture
def client(herald, project):
    """A client acting for this test's project."""
    return Client(herald.app, project["apiKey"])


@pytest.fixture(scope="module")
def standin():
    """The SES/SNS stand-in of this module, counting each request as it arrives."""
    with CountingStandIn() as server:
        yield server


@pytest.fixture(scope="module", params=["embedded", "production"])
def slow_herald(request, standin, tmp_path_factory):
    """A Herald of this module whose SES and SNS are the stand-in, with short provider
    timeouts."""
    yield from standin_herald(
        request,
        tmp_path_factory,
        standin,
        send_wait=30.0,
        provider_timeout=1.0,
        provider_retry_budget=1.5,
    )


@pytest.fixture
def slow_client(slow_herald, standin):
    """A client of a new project on `slow_herald` with the alert, the stand-in answering at
    once and without faults."""
    standin.latency = 0.0
    standin.faults["ses"].clear()
    standin.faults["sns"].clear()
    client = Client(slow_herald.app, new_project(slow_herald, "t")["apiKey"])
    upsert_notification(client, ALERT)
    return client


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its kind, unless it is marked with one already; no test has two."""
    for item in items:
        kinds = {mark.name for mark in item.iter_markers() if mark.name in KINDS}
        if len(kinds) > 1:
            raise pytest.UsageError(f"{item.nodeid} is marked {' and '.join(sorted(kinds))}")
        if not kinds:
            item.add_marker(kind_of(item))


def kind_of(item: pytest.Item) -> str:
    """`browser` for a test that drives Chromium, `api` for one that asks for a fixture of
    ours (conftest, tests/support or its module), `unit` for the rest."""
    if "chromium" in item.fixturenames:
        return "browser"
    # pytest keeps where each fixture of a test comes from on the item alone.
    definitions = item._fixtureinfo.name2fixturedefs.values()
    ours = any(d[-1].func.__module__.startswith("tests.") for d in definitions)
    return "api" if ours else "unit"
