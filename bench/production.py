"""Herald's production mode as the Procfile runs it, on a database and a Redis DB of its own,
with the provider stand-in as SES and SNS."""

from __future__ import annotations

import json
import secrets
import time

import psycopg
import redis

from bench.client import Api, create_notification, delivered
from bench.payloads import EMAIL_FROM, messages_body
from bench.processes import Process, Processes, clean_env, free_port, procfile, run, wait_http

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_ADMIN = f"{PG_SERVER}/test"
REDIS_URL = "redis://127.0.0.1:6379/14"
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


class Production:
    """PostgreSQL, Redis, the stand-in, `web` and `worker`; `setup` starts, `teardown` drops."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.database = f"herald_bench_{secrets.token_hex(4)}"
        self.database_url = f"{PG_SERVER}/{self.database}"
        self.web_port, self.standin_port = free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.standin_url = f"http://127.0.0.1:{self.standin_port}"
        self.project: dict[str, str] = {}
        self.standin: Process | None = None
        self.latency = 0.0
        self.web: Process | None = None
        self.worker: Process | None = None
        self.worker_shape = {"threads": 32, "processes": 1}

    def env(self, **values: str) -> dict[str, str]:
        """The environment of Herald's processes and commands in this mode."""
        return clean_env(
            DATABASE_URL=self.database_url,
            REDIS_URL=REDIS_URL,
            AWS_ENDPOINT_URL=self.standin_url,
            PORT=str(self.web_port),
            **AWS,
            **values,
        )

    def setup(self) -> None:
        """A fresh database and Redis DB, the schema, a project; then every process."""
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        redis.Redis.from_url(REDIS_URL).flushdb()
        run(["herald", "db", "upgrade"], self.env())
        self.project = json.loads(
            run(["herald", "project", "create", "bench", "--email-from", EMAIL_FROM], self.env())
        )
        self.start_standin(0.0)
        self.web = self.processes.start("web", procfile("web"), self.env())
        self.start_worker()
        wait_http(f"{self.base_url}/healthz", self.web)
        create_notification(self.base_url, self.project["apiKey"])
        self.wait_delivering()

    def ensure_standin(self, latency: float) -> None:
        """Have the stand-in answer with this latency, and a message delivered through it."""
        if latency != self.latency:
            self.start_standin(latency)
            self.wait_delivering()

    def start_standin(self, latency: float) -> None:
        """(Re)start the SES/SNS stand-in on its port with this fixed latency."""
        if self.standin is not None:
            self.processes.stop(self.standin)
        self.latency = latency
        self.standin = self.processes.start(
            f"standin-{int(latency * 1000)}ms",
            f"python -m bench.standin --latency {latency} --port {self.standin_port}",
            clean_env(),
        )
        wait_port(self.standin)

    def start_worker(
        self, threads: int | None = None, processes: int | None = None, **env: str
    ) -> None:
        """(Re)start the Procfile's `worker`; threads and processes left out take the
        Procfile's defaults, the settings the README recommends."""
        if self.worker is not None:
            self.processes.stop(self.worker)
        self.worker_shape = {"threads": threads, "processes": processes}
        if threads is not None:
            env["HERALD_WORKER_THREADS"] = str(threads)
        if processes is not None:
            env["HERALD_WORKER_PROCESSES"] = str(processes)
        self.worker = self.processes.start(
            f"worker-{processes or 'default'}x{threads or 'default'}",
            procfile("worker"),
            self.env(**env),
        )

    def wait_delivering(self, timeout: float = 90.0) -> None:
        """Wait until a one-message batch is delivered end to end (the worker is up)."""
        api = Api(self.base_url, self.project["apiKey"])
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.worker is not None and not self.worker.alive():
                    raise RuntimeError(f"the worker exited:\n{self.worker.tail()}")
                status, answer = api.post("/messages.send", messages_body("warm", 0, 1))
                if status == 200 and delivered(answer["results"][0]):
                    return
                time.sleep(0.2)
        finally:
            api.close()
        raise RuntimeError(
            f"no message was delivered within {timeout:.0f} s; last answer {status}: {answer}"
        )

    def teardown(self) -> None:
        """Drop the database and empty the Redis DB (the processes are stopped by then)."""
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            redis.Redis.from_url(REDIS_URL).flushdb()


def wait_port(process: Process, timeout: float = 20.0) -> None:
    """Wait until a process has printed its URL (the stand-in's sign that it listens)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        if process.log.read_text().strip():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{process.name} did not start within {timeout:.0f} s")
