"""The Dramatiq broker and result backend of each mode, and the ingress side of a delivery job:
enqueue by actor name (the ingress never imports the worker), wait under one deadline, and
whether the broker is reachable (its queues' depths and dead letters are `shared/queues.py`'s)."""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Retries, ShutdownNotifications, TimeLimit
from dramatiq.results import Results, ResultTimeout
from dramatiq.results.backend import Missing
from dramatiq.results.backends.redis import RedisBackend
from dramatiq.results.backends.stub import StubBackend

from shared.config import Settings

QUEUE = "herald"
DELIVER = "deliver_message"
RESULT_TTL_MS = 10 * 60 * 1000


class LocalBackend(StubBackend):
    """The in-process result backend: a stored result wakes its waiter at once (no polling)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = {}
        self._stored = threading.Condition()

    def _store(self, message_key, result, ttl) -> None:
        with self._stored:
            super()._store(message_key, result, ttl)
            self._stored.notify_all()

    def get_result(self, message, *, block=False, timeout=None):
        if not block:
            return super().get_result(message)
        deadline = time.monotonic() + (timeout or 10_000) / 1000
        key = self.build_message_key(message)
        with self._stored:
            while True:
                data = self._get(key)
                if data is not Missing:
                    return self.unwrap_result(data)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ResultTimeout(message)
                self._stored.wait(remaining)

    def wait(self, message: dramatiq.Message, remaining_ms: int) -> Any:
        """The job's result, waiting up to `remaining_ms` (to the millisecond)."""
        return self.get_result(message, block=True, timeout=max(remaining_ms, 1))


class RedisResults(RedisBackend):
    """Results in Redis. Its blocking wait counts whole seconds (rounded down), so the last
    partial second of a deadline is a non-blocking look."""

    def wait(self, message: dramatiq.Message, remaining_ms: int) -> Any:
        """The job's result, waiting up to the whole seconds of `remaining_ms`."""
        if remaining_ms >= 1000:
            return self.get_result(message, block=True, timeout=remaining_ms)
        return self.get_result(message)


def build_broker(settings: Settings) -> dramatiq.Broker:
    """Redis broker and results in production; the stub broker and local results embedded."""
    middleware = [AgeLimit(), TimeLimit(), ShutdownNotifications(), Retries(max_retries=0)]
    if settings.embedded:
        broker: dramatiq.Broker = StubBroker(middleware=middleware)
        backend = LocalBackend()
    else:
        namespace = settings.redis_namespace
        broker = RedisBroker(url=settings.redis_url, middleware=middleware, namespace=namespace)
        backend = RedisResults(url=settings.redis_url, namespace=f"{namespace}-results")
    broker.add_middleware(Results(backend=backend, result_ttl=RESULT_TTL_MS))
    broker.declare_queue(QUEUE)
    return broker


def result_backend(broker: dramatiq.Broker) -> LocalBackend | RedisResults:
    """The result backend added by `build_broker`."""
    for middleware in broker.middleware:
        if isinstance(middleware, Results):
            return middleware.backend
    raise RuntimeError("The broker has no Results middleware.")


def enqueue_delivery(
    broker: dramatiq.Broker, message_pk: int, refresh_widget: bool = False
) -> dramatiq.Message:
    """Enqueue one `deliver_message` job."""
    message = dramatiq.Message(
        queue_name=QUEUE,
        actor_name=DELIVER,
        args=(message_pk,),
        kwargs={"refresh_widget": refresh_widget} if refresh_widget else {},
        options={},
    )
    return broker.enqueue(message)


def wait_results(
    broker: dramatiq.Broker, jobs: dict[int, dramatiq.Message], wait: float
) -> dict[int, dict[str, Any]]:
    """Results of the jobs that finish before one deadline; the others are left out (each
    backend's `wait` says how it rounds what is left of the deadline)."""
    backend = result_backend(broker)
    deadline = time.monotonic() + wait
    results: dict[int, dict[str, Any]] = {}
    for pk, message in jobs.items():
        try:
            results[pk] = backend.wait(message, int((deadline - time.monotonic()) * 1000))
        except Exception:  # noqa: BLE001 - timeout, missing or a failed job: read its row
            continue
    return results


def broker_reachable(broker: dramatiq.Broker) -> bool:
    """True when the broker answers; the in-process broker of the embedded mode always does."""
    if not isinstance(broker, RedisBroker):
        return True
    try:
        broker.client.ping()
    except Exception:  # noqa: BLE001 - any failure to answer means unreachable
        return False
    return True
