"""The load generator: a process of its own that drives the HTTP API from many client threads."""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from bench.client import Api, delivered
from bench.payloads import messages_body, users_body

USERS_PER_CLIENT = 200  # each client cycles through its own users: no row-lock contention


class LoadProcess:
    """A spawned process (it shares nothing with the orchestrator) that runs load functions,
    one at a time, sent to it by reference over a pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child,), name="herald-bench-load", daemon=True
        )
        self.process.start()

    def start(self, function: Callable[..., Any], *args: Any) -> LoadProcess:
        """Start `function(*args)` there; `result()` waits for what it returns."""
        self.pipe.send((function, args))
        return self

    def result(self, timeout: float = 600) -> Any:
        """What the function started last returned; its error if it raised or the process died."""
        deadline = time.monotonic() + timeout
        while not self.pipe.poll(0.2):
            if not self.process.is_alive():
                raise RuntimeError(f"the load process died (exit code {self.process.exitcode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the load process did not answer within {timeout:.0f} s")
        ok, value = self.pipe.recv()
        if not ok:
            raise RuntimeError(f"in the load process:\n{value}")
        return value

    def call(self, function: Callable[..., Any], *args: Any, timeout: float = 600) -> Any:
        """Run `function(*args)` in the load process and return what it returns."""
        return self.start(function, *args).result(timeout)

    def close(self) -> None:
        """Stop the process."""
        self.process.terminate()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def _serve(pipe: Connection) -> None:
    """The load process's loop: run each function received, send back its result or error."""
    while True:
        try:
            function, args = pipe.recv()
        except EOFError:
            return
        try:
            pipe.send((True, function(*args)))
        except Exception:  # noqa: BLE001 - the orchestrator raises it
            pipe.send((False, traceback.format_exc()))


def timed_batches(
    base_url: str, key: str, prefix: str, size: int, count: int, pause: float
) -> dict[str, Any]:
    """Send `count` batches one at a time, each after `pause` idle seconds; time each. An
    untimed batch first creates the users."""
    api = Api(base_url, key)
    seconds, undelivered = [], 0
    try:
        api.post("/messages.send", messages_body(prefix, 0, size))
        for _ in range(count):
            time.sleep(pause)
            body = messages_body(prefix, 0, size)
            started = time.perf_counter()
            status, answer = api.post("/messages.send", body)
            seconds.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"messages.send answered {status}: {answer}")
            undelivered += sum(not delivered(result) for result in answer["results"])
    finally:
        api.close()
    return {"seconds": seconds, "undelivered": undelivered}


def message_load(
    base_url: str, key: str, prefix: str, clients: int, batch: int, seconds: float
) -> dict[str, Any]:
    """Closed-loop `messages.send` of `batch` messages per request from `clients` threads."""

    def request(api: Api, client: int, n: int) -> tuple[int, int]:
        first = (n * batch) % USERS_PER_CLIENT
        status, answer = api.post(
            "/messages.send", messages_body(f"{prefix}-c{client}", first, batch)
        )
        if status != 200:
            raise RuntimeError(f"messages.send answered {status}: {answer}")
        done = sum(delivered(result) for result in answer["results"])
        return done, batch - done

    return _closed_loop(base_url, key, clients, seconds, request)


def upsert_load(
    base_url: str, key: str, prefix: str, clients: int, batch: int, seconds: float
) -> dict[str, Any]:
    """Closed-loop `users.upsert` of `batch` new users per request from `clients` threads."""

    def request(api: Api, client: int, n: int) -> tuple[int, int]:
        status, answer = api.post("/users.upsert", users_body(f"{prefix}-c{client}-{n}", 0, batch))
        if status != 200:
            raise RuntimeError(f"users.upsert answered {status}: {answer}")
        done = sum(bool(result.get("ok")) for result in answer["results"])
        return done, batch - done

    return _closed_loop(base_url, key, clients, seconds, request)


def _run_clients(client: Callable[[int], None], clients: int, timeout: float) -> None:
    """Run `clients` threads of `client` at once and wait for them all (up to `timeout` each)."""
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)


def _closed_loop(
    base_url: str,
    key: str,
    clients: int,
    seconds: float,
    request: Callable[[Api, int, int], tuple[int, int]],
) -> dict[str, Any]:
    """Each client sends its next request when the last one is answered, until the deadline;
    the run lasts until the last answer. The rate counts the items done right."""
    lock = threading.Lock()
    totals = {"done": 0, "other": 0, "requests": 0}
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds

    def client(number: int) -> None:
        api = Api(base_url, key)
        n = 0
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                done, other = request(api, number, n)
                with lock:
                    latencies.append(time.perf_counter() - sent)
                    totals["done"] += done
                    totals["other"] += other
                    totals["requests"] += 1
                n += 1
        except Exception as exc:  # noqa: BLE001 - reported with the figures
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
        finally:
            api.close()

    _run_clients(client, clients, seconds + 120)
    elapsed = time.perf_counter() - started
    rate = totals["done"] / elapsed
    return {**totals, "elapsed": elapsed, "rate": rate, "latencies": latencies, "errors": errors}
