"""Herald as the Procfile runs it, for real: its `web` and `worker` lines as processes on the
test session's PostgreSQL database, a Redis namespace of their own, a metrics folder of their
own and the SES/SNS stand-in."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.processes import Process, Processes, clean_env, free_port, procfile, wait_http
from bench.standin import StandIn
from shared.infra.config import Settings
from shared.infra.db import autocommit, make_engine, transaction, upgrade
from shared.infra.models import messages
from shared.tenancy.projects import create_project
from tests.support.backends import IN_CI, REDIS_TEST, backends_down
from tests.support.data import SENDER, notification


@dataclass
class Deployment:
    """The processes, where they listen, and what they run on."""

    processes: Processes
    env: dict[str, str]
    base: str
    metrics_dir: Path
    standin: StandIn
    project: dict[str, str] = field(default_factory=dict)
    web: Process | None = None
    worker: Process | None = None

    def start_web(self) -> Process:
        """The Procfile's `web` line; returns once it answers /healthz."""
        self.web = self.processes.start("web", procfile("web"), self.env)
        wait_http(f"{self.base}/healthz", self.web)
        return self.web

    def start_worker(self) -> Process:
        """The Procfile's `worker` line; returns once its processes consume."""
        self.worker = self.processes.start("worker", procfile("worker"), self.env)
        wait_log(
            self.worker, "Worker process is ready", count=int(self.env["HERALD_WORKER_PROCESSES"])
        )
        return self.worker

    def call(self, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        """One call of the backend API with the project's key; the JSON answer."""
        request = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.project['apiKey']}", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            pytest.fail(f"{path} answered {error.code}: {error.read().decode(errors='replace')}")

    def metrics(self) -> str:
        """The text of /metrics."""
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as response:
            return response.read().decode()

    def statuses(self, ids: list[str]) -> dict[str, str]:
        """The status of each of these messages, read from the database."""
        engine = make_engine(Settings(database_url=self.env["DATABASE_URL"]))
        query = select(messages.c.id, messages.c.status).where(messages.c.id.in_(ids))
        with autocommit(engine) as connection:
            found = dict(connection.execute(query).all())
        engine.dispose()
        return found


def wait_log(process: Process, text: str, count: int = 1, timeout: float = 60) -> None:
    """Wait until `text` appears `count` times in the process's log."""
    deadline = time.monotonic() + timeout
    while process.log.read_text(errors="replace").count(text) < count:
        if not process.alive() or time.monotonic() > deadline:
            pytest.fail(f"{process.name} never logged {text!r}:\n{process.tail(40)}")
        time.sleep(0.1)


def terminate(process: Process, timeout: float) -> float:
    """SIGTERM to the process alone (it tells its children); seconds it took to exit."""
    started = time.monotonic()
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.popen.wait(timeout)
    except Exception:  # noqa: BLE001
        pytest.fail(f"{process.name} did not exit {timeout} s after SIGTERM:\n{process.tail(40)}")
    return time.monotonic() - started


def deploy(tmp: Path, pg_database: str, latency: float, **env: str):
    """Start nothing yet: the environment, a project and the stand-in of a deployment."""
    down = backends_down()
    if down:
        if IN_CI:
            pytest.fail(f"production mode is required in CI, but {down}")
        pytest.skip(f"production mode skipped: {down}")
    engine = make_engine(Settings(database_url=pg_database))
    upgrade(engine)
    with transaction(engine) as connection:
        project = create_project(connection, f"deploy-{secrets.token_hex(4)}", SENDER)
    engine.dispose()
    port = free_port()
    metrics_dir = tmp / "metrics"
    standin = StandIn(latency)
    values = {
        "DATABASE_URL": pg_database,
        "REDIS_URL": REDIS_TEST,
        "HERALD_REDIS_NAMESPACE": f"herald-test-{secrets.token_hex(4)}",
        "AWS_ENDPOINT_URL": standin.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_CONCURRENCY": "2",
        "HERALD_WEB_THREADS": "8",
        "HERALD_WORKER_PROCESSES": "2",
        "HERALD_WORKER_THREADS": "8",
        **env,
    }
    processes = Processes(tmp)
    deployment = Deployment(
        processes, clean_env(**values), f"http://127.0.0.1:{port}", metrics_dir, standin
    )
    deployment.project = project
    return deployment


NOTIFICATION = notification("order", withWidget=False)  # e-mail and SMS only


def user(index: int) -> dict:
    """A user with an e-mail address and a phone number."""
    return {
        "id": f"u{index}",
        "email": f"person{index}@example.com",
        "telephone": f"+4479112{index:05d}",
        "firstName": "Ann",
    }


def prepare(deployment: Deployment, users: int) -> None:
    """The notification and the users, through the API."""
    deployment.call("/notifications.upsert", NOTIFICATION)
    deployment.call("/users.upsert", {"users": [user(i) for i in range(users)]})


def batch(ids: list[str], first: int = 0) -> dict:
    """A `messages.send` body: one message with each id, to the users from `first` on."""
    return {
        "messages": [
            {"id": id_, "notificationId": "order", "userId": f"u{first + i}", "data": {"n": i}}
            for i, id_ in enumerate(ids)
        ]
    }


@contextlib.contextmanager
def running(deployment: Deployment) -> Iterator[Deployment]:
    """The stand-in serves inside the block; every process started is stopped at its end."""
    with deployment.standin:
        try:
            yield deployment
        finally:
            deployment.processes.stop_all()
