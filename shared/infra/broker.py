"""The Dramatiq broker and result backend of each mode, and the ingress side of a delivery job:
enqueue by actor name (the ingress never imports the worker), wait under one deadline, and
whether the broker is reachable (its queues' depths, dead letters and waiting jobs are
`shared/operations/queues.py`'s)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any
from uuid import uuid4

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis
from dramatiq.middleware import AgeLimit, Middleware, Retries, ShutdownNotifications, TimeLimit
from dramatiq.results import Results, ResultTimeout
from dramatiq.results.backend import Missing
from dramatiq.results.backends.redis import RedisBackend
from dramatiq.results.backends.stub import StubBackend

from shared.infra.config import Settings

QUEUE = "herald"
DELIVER = "deliver_message"
RESULT_TTL_MS = 10 * 60 * 1000
# Out of a million broker commands, how many also return the jobs of dead workers to the queue
# (dramatiq's default is 1,000; idle workers poll every 20 ms, so this is about every 2 s).
MAINTENANCE_CHANCE = 10_000
REDIS_CONNECT_TIMEOUT = 2.0


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

    def _store(self, message_key, result, ttl) -> None:
        """Push the result and set its expiry in one round trip. dramatiq's own store also
        deletes the key first, inside MULTI/EXEC (five commands): a job's key is new, and a job
        run twice (its worker died before acknowledging it) pushes a second result as true as
        the first, which the waiter may read as well."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.lpush(message_key, self.encoder.encode(result))
            pipe.pexpire(message_key, ttl)
            pipe.execute()

    def wait(self, message: dramatiq.Message, remaining_ms: int) -> Any:
        """The job's result, waiting up to the whole seconds of `remaining_ms`."""
        if remaining_ms >= 1000:
            return self.get_result(message, block=True, timeout=remaining_ms)
        return self.get_result(message)


class DeliveryBroker(RedisBroker):
    """The Redis broker, where a delivery job's id in Redis is its message's (`job_id`): the
    sweeper asks whether that id is still in the queue's messages (waiting, or taken by a
    worker that hasn't acknowledged it) before enqueueing the message again."""

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None) -> dramatiq.Message:
        job = message.options.get("job")
        if job is None or delay is not None:
            return super().enqueue(message, delay=delay)
        message = message.copy(options={"redis_message_id": job})
        self.emit_before("enqueue", message, delay)
        self.do_enqueue(message.queue_name, job, message.encode())
        self.emit_after("enqueue", message, delay)
        return message

    def enqueue_all(self, messages: list[dramatiq.Message]) -> list[dramatiq.Message]:
        """Enqueue jobs in one round trip: dramatiq's own enqueue script, once per job, in one
        pipeline (its arguments as `RedisBroker._dispatch` gives them; dramatiq is pinned to
        the minor version this was written for). Raises if Redis fails; a job that went anyway
        is in Redis under its id, which the sweeper looks for before enqueueing again."""
        dispatch, keys = self.scripts["dispatch"], [self.namespace]
        enqueued = []
        with self.client.pipeline(transaction=False) as pipe:
            for message in messages:
                job = message.options.get("job") or str(uuid4())
                message = message.copy(options={"redis_message_id": job})
                self.emit_before("enqueue", message, None)
                args = [
                    "enqueue",
                    current_millis(),
                    message.queue_name,
                    self.broker_id,
                    self.heartbeat_timeout,
                    self.dead_message_ttl,
                    self._should_do_maintenance("enqueue"),
                    self._max_unpack_size(),
                    job,
                    message.encode(),
                ]
                dispatch(keys=keys, args=args, client=pipe)
                enqueued.append(message)
            pipe.execute()
        for message in enqueued:
            self.emit_after("enqueue", message, None)
        return enqueued


class WaitingJobs(Middleware):
    """The in-process broker's delivery jobs enqueued and not yet processed, by message pk."""

    def __init__(self) -> None:
        self.waiting: Counter[int] = Counter()
        self.lock = threading.Lock()

    def after_enqueue(self, broker, message, delay) -> None:
        if message.options.get("job"):
            with self.lock:
                self.waiting[message.args[0]] += 1

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if message.options.get("job"):
            with self.lock:
                self.waiting[message.args[0]] -= 1
                if self.waiting[message.args[0]] <= 0:
                    del self.waiting[message.args[0]]

    after_skip_message = after_process_message


def build_broker(settings: Settings) -> dramatiq.Broker:
    """Redis broker and results in production; the stub broker and local results embedded.

    A worker that stops answering Redis for longer than a job may run (the send time limit) is
    dead: its unacknowledged jobs go back to the queue."""
    middleware = [AgeLimit(), TimeLimit(), ShutdownNotifications(), Retries(max_retries=0)]
    if settings.embedded:
        broker: dramatiq.Broker = StubBroker(middleware=[*middleware, WaitingJobs()])
        backend = LocalBackend()
    else:
        namespace, client = settings.redis_namespace, redis_client(settings)
        broker = DeliveryBroker(
            client=client,
            middleware=middleware,
            namespace=namespace,
            heartbeat_timeout=int((settings.send_time_limit + 1) * 1000),
            maintenance_chance=MAINTENANCE_CHANCE,
        )
        backend = RedisResults(client=client, namespace=f"{namespace}-results")
    broker.add_middleware(Results(backend=backend, result_ttl=RESULT_TTL_MS))
    broker.declare_queue(QUEUE)
    return broker


def redis_client(settings: Settings) -> redis.Redis:
    """A Redis client that fails fast when Redis is unreachable; its reads may wait out the
    longest blocking wait for results (`HERALD_SEND_WAIT`)."""
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        socket_timeout=settings.send_wait + REDIS_CONNECT_TIMEOUT * 2,
    )


def result_backend(broker: dramatiq.Broker) -> LocalBackend | RedisResults:
    """The result backend added by `build_broker`."""
    for middleware in broker.middleware:
        if isinstance(middleware, Results):
            return middleware.backend
    raise RuntimeError("The broker has no Results middleware.")


def job_id(message_pk: int) -> str:
    """The id in the broker of a message's delivery job: one per message, so that the sweeper
    can tell a job still waiting from one lost."""
    return f"deliver-{message_pk}"


def delivery_job(message_pk: int, refresh_widget: bool = False) -> dramatiq.Message:
    """A `deliver_message` job (a widget refresh is a job of its own, not tracked)."""
    return dramatiq.Message(
        queue_name=QUEUE,
        actor_name=DELIVER,
        args=(message_pk,),
        kwargs={"refresh_widget": True} if refresh_widget else {},
        options={} if refresh_widget else {"job": job_id(message_pk)},
    )


def enqueue_delivery(
    broker: dramatiq.Broker, message_pk: int, refresh_widget: bool = False
) -> dramatiq.Message:
    """Enqueue one `deliver_message` job."""
    return broker.enqueue(delivery_job(message_pk, refresh_widget))


def enqueue_deliveries(
    broker: dramatiq.Broker, pks: list[int], refresh_pks: list[int]
) -> dict[int, dramatiq.Message]:
    """Enqueue the delivery jobs of a batch (and its widget refreshes) at once: one round trip
    on Redis. The tracked jobs, by message pk."""
    messages = [delivery_job(pk) for pk in pks] + [delivery_job(pk, True) for pk in refresh_pks]
    if isinstance(broker, DeliveryBroker):
        enqueued = broker.enqueue_all(messages)
    else:
        enqueued = [broker.enqueue(message) for message in messages]
    return dict(zip(pks, enqueued, strict=False))


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
