"""A running Herald of either mode as the tests see it: built, swapped onto other services for
a block, stopped; and the projects its tests act for."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import Engine

from api import create_app
from api.http.requests import Services, services
from shared.infra.config import Settings
from shared.infra.db import make_engine, transaction, upgrade
from shared.providers.urls import parse_chain
from shared.tenancy.projects import authenticate, create_project
from shared.tenancy.senders import add_sender
from tests.support.backends import IN_CI, REDIS_TEST, backends_down
from tests.support.calls import Client
from tests.support.data import SENDER, token
from worker.runtime import start_worker


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
        """The engine the app runs on now."""
        return self.services.engine

    @property
    def broker(self) -> dramatiq.Broker:
        """The broker the app runs on now."""
        return self.services.broker


def chains(overrides: dict) -> dict:
    """The settings' overrides with `email_provider="ses"`-style names made chains of one."""
    overrides = dict(overrides)
    for channel in ("email", "sms"):
        if f"{channel}_provider" in overrides:
            overrides[f"{channel}_providers"] = parse_chain(
                channel, overrides.pop(f"{channel}_provider")
            )
    return overrides


def build_herald(mode: str, tmp: Path, request, **overrides) -> Herald:
    """Start a Herald of this mode with its worker pool (a Redis namespace of its own, so that
    two Heralds, of one test session or of two, never take each other's jobs)."""
    overrides = chains(overrides)
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
    moto_url = overrides.pop("aws_endpoint_url", None) or request.getfixturevalue("moto")
    pg = overrides.pop("database_url", None) or request.getfixturevalue("pg_database")
    overrides = {**chains({"email_provider": "ses", "sms_provider": "sns"}), **overrides}
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
    """Stop the Herald's worker pool, if it runs one here, and close its engine."""
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


def new_project(herald: Herald, name: str = "test") -> dict:
    """A new project sending from the verified test sender: {"projectId", "apiKey", ...}."""
    with transaction(herald.engine) as connection:
        return create_project(connection, f"{name}-{token()}", SENDER, "Herald Tests", "Herald")


def allow_sender(herald: Herald, client: Client, sender: str) -> None:
    """Let the client's project send from this address or domain (`herald senders add`)."""
    with transaction(herald.engine) as connection:
        add_sender(connection, authenticate(connection, client.key).id, sender)
