"""Real processes for the fault tests and how they read outcomes: Herald's `web` and `worker`
as the Procfile runs them, a Redis server of their own, a TCP proxy between Herald and
PostgreSQL that the test can cut, and a provider stand-in that counts every request as it
arrives and can hang for one recipient."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import redis
from sqlalchemy import and_, func, or_, select

from bench.client import Api
from bench.processes import Process, Processes, clean_env, free_port, procfile, run, wait_http
from bench.standin import StandIn, _Handler
from shared.infra.models import messages


class CountingStandIn(StandIn):
    """The SES/SNS stand-in, counting each request per recipient when it arrives (before its
    latency), holding the answer to a recipient in `hang` for that many seconds, and keeping
    the most requests it held unanswered at once (`most_in_flight`)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: Counter[str] = Counter()
        self.hang: dict[str, float] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.server.RequestHandlerClass = type("Handler", (_CountingHandler,), {"standin": self})

    def received(self, recipient: str) -> int:
        """How many requests to this address or number arrived."""
        with self.lock:
            return self.arrived[recipient]


class _CountingHandler(_Handler):
    standin: CountingStandIn

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/v2/email/outbound-emails"):
            request = json.loads(body or b"{}")
            recipient = request["Destination"]["ToAddresses"][0]
        else:
            request = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            recipient = request["PhoneNumber"]
        standin = self.standin
        with standin.lock:
            standin.arrived[recipient] += 1
            standin.in_flight += 1
            standin.most_in_flight = max(standin.most_in_flight, standin.in_flight)
        time.sleep(standin.hang.get(recipient, standin.latency))
        with standin.lock:
            standin.in_flight -= 1
        if "Destination" in request:
            self._ses(request)
        else:
            self._sns(request)


class TcpProxy:
    """A loopback TCP proxy to `target`; `cut` drops every connection and refuses new ones,
    `restore` accepts again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        """Listen and forward again."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the listener and every connection through the proxy."""
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def kill(processes: Processes, process: Process) -> None:
    """kill -9 a started process and all its children, and forget it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.popen.wait(10)
    processes.running.remove(process)


class Stack:
    """Herald in production mode on its own Redis server and a proxied PostgreSQL database:
    `web` and `worker` processes started from the Procfile with these settings."""

    def __init__(self, log_dir: Path, database: str, standin_url: str, **settings: str) -> None:
        self.processes = Processes(log_dir)
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.proxy = TcpProxy(("127.0.0.1", 5432))
        self.database_url = f"postgresql://postgres@127.0.0.1:{self.proxy.port}/{database}"
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.settings = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "HERALD_REDIS_NAMESPACE": "herald-faults",
            "AWS_ENDPOINT_URL": standin_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "PORT": str(self.web_port),
            **settings,
        }
        self.redis_server: Process | None = None
        self.web: Process | None = None
        self.workers: list[Process] = []

    def env(self, **values: str) -> dict[str, str]:
        """The environment of Herald's processes and commands here."""
        return clean_env(**self.settings, **values)

    def herald(self, *args: str) -> str:
        """Run a `herald` command; its output."""
        return run(["herald", *args], self.env())

    def start_redis(self) -> None:
        """A Redis server with no persistence: restarted, it is empty."""
        command = (
            f"redis-server --port {self.redis_port} --bind 127.0.0.1 --save '' --appendonly no"
        )
        self.redis_server = self.processes.start("redis", command, self.env())
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.redis_server.tail()}")
            time.sleep(0.05)

    def kill_redis(self) -> None:
        """kill -9 the Redis server: every job in it is gone."""
        kill(self.processes, self.redis_server)

    def start_web(self) -> None:
        """One gunicorn process with threads, answering once its health check does."""
        self.web = self.processes.start("web", procfile("web"), self.env(WEB_CONCURRENCY="1"))
        wait_http(f"{self.base_url}/healthz", self.web)

    def start_worker(self, threads: int = 8, **settings: str) -> Process:
        """One `dramatiq` worker process (a parent and its one child) from the Procfile, with
        these settings on top of the stack's."""
        env = self.env(HERALD_WORKER_PROCESSES="1", HERALD_WORKER_THREADS=str(threads), **settings)
        worker = self.processes.start("worker", procfile("worker"), env)
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: Process) -> None:
        """kill -9 every process of this worker: nothing of it finishes or cleans up."""
        kill(self.processes, worker)
        self.workers.remove(worker)

    def stop_workers(self) -> None:
        """Stop every worker (SIGTERM, as a deploy would)."""
        while self.workers:
            self.processes.stop(self.workers.pop())

    def api(self, key: str) -> Api:
        """A client of this Herald's backend API acting for a project."""
        return Api(self.base_url, key, timeout=30)

    def close(self) -> None:
        """Stop every process and the proxy."""
        self.processes.stop_all()
        self.proxy.cut()


FINAL = {"sent", "failed", "skipped", "muted", "unknown"}
STATUSES = [messages.c[f"{channel}_status"] for channel in ("email", "sms", "widget")]


def rows(herald: Stack, items: list[dict]) -> dict[str, object]:
    """The messages of these items by user id, as the database holds them."""
    users = [item["userId"] for item in items]
    with herald.engine.connect() as connection:
        found = connection.execute(select(messages).where(messages.c.user_id.in_(users))).all()
    return {row.user_id: row for row in found}


def settled(herald: Stack, items: list[dict], timeout: float = 60) -> dict[str, object]:
    """The items' messages once each one and its channels are final (or fail the test)."""
    tags = {item["userId"].rsplit("-", 1)[0] for item in items}
    theirs = or_(*(messages.c.user_id.like(f"{tag}-%") for tag in tags))
    final = and_(
        messages.c.status.in_(("sent", "failed")),
        *(or_(column.is_(None), column.in_(FINAL)) for column in STATUSES),
    )
    count = select(func.count(), func.count().filter(final)).where(theirs)
    deadline = time.monotonic() + timeout
    while True:
        with herald.engine.connect() as connection:
            found, done = connection.execute(count).one()
        if found == len(items) and done == found:
            return rows(herald, items)
        if time.monotonic() > deadline:
            pytest.fail(f"{found - done} of {len(items)} messages not final")
        time.sleep(0.5)


def channels_with(found: dict, status: str) -> set[tuple[int, str]]:
    """(pk, channel) of every e-mail or SMS in this status."""
    return {
        (row.pk, channel)
        for row in found.values()
        for channel in ("email", "sms")
        if row._mapping[f"{channel}_status"] == status
    }


def assert_once(standin: CountingStandIn, items: list[dict], found: dict) -> None:
    """No recipient received twice; each sent channel arrived exactly once."""
    for item in items:
        row = found[item["userId"]]
        for channel, recipient in (("email", item["userEmail"]), ("sms", item["userTelephone"])):
            arrived = standin.received(recipient)
            assert arrived <= 1, f"{recipient} received {arrived} times"
            if row._mapping[f"{channel}_status"] == "sent":
                assert arrived == 1 and row._mapping[f"{channel}_provider_id"]


def get_message(herald: Stack, message_id: str) -> dict:
    """`messages.get` over HTTP."""
    request = urllib.request.Request(
        f"{herald.base_url}/messages.get?id={message_id}",
        headers={"Authorization": f"Bearer {herald.key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["message"]


def crashed_count(herald: Stack) -> int:
    """Messages failed with delivery/crashed, as `herald queues` counts them."""
    return json.loads(herald.herald("queues"))["database"]["crashed"]
