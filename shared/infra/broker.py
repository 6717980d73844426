"""The Dramatiq broker and result store of the mode, picked here once at start-up (each mode's
are in `brokers/` and `results/`), and the ingress side of a delivery job: enqueue by actor
name (the ingress never imports the worker), wait under one deadline, and whether the broker is
reachable (an operator's view of its queue is `shared/operations/queues.py`)."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import AgeLimit, Retries, ShutdownNotifications, TimeLimit
from dramatiq.results import Results

from shared.infra.brokers.base import DeliveryBroker
from shared.infra.brokers.memory import MemoryBroker
from shared.infra.brokers.redis import RedisBroker
from shared.infra.config import Settings
from shared.infra.results.base import ResultStore
from shared.infra.results.memory import MemoryResults
from shared.infra.results.redis import RedisResults

QUEUE = "herald"
DELIVER = "deliver_message"
RESULT_TTL_MS = 10 * 60 * 1000
# Out of a million broker commands, how many also return the jobs of dead workers to the queue
# (dramatiq's default is 1,000; idle workers poll every 20 ms, so this is about every 2 s).
MAINTENANCE_CHANCE = 10_000
REDIS_CONNECT_TIMEOUT = 2.0


def build_broker(settings: Settings) -> DeliveryBroker:
    """The broker and result store of the mode: dramatiq's stub broker and results in the
    process when embedded, both in Redis in production.

    A worker that stops answering Redis for longer than a job may run (the send time limit) is
    dead: its unacknowledged jobs go back to the queue."""
    middleware = [AgeLimit(), TimeLimit(), ShutdownNotifications(), Retries(max_retries=0)]
    broker: DeliveryBroker
    results: ResultStore
    if settings.embedded:
        broker, results = MemoryBroker(middleware=middleware), MemoryResults()
    else:
        namespace, client = settings.redis_namespace, redis_client(settings)
        broker = RedisBroker(
            client=client,
            middleware=middleware,
            namespace=namespace,
            heartbeat_timeout=int((settings.send_time_limit + 1) * 1000),
            maintenance_chance=MAINTENANCE_CHANCE,
        )
        results = RedisResults(client=client, namespace=f"{namespace}-results")
    broker.add_middleware(Results(backend=results, result_ttl=RESULT_TTL_MS))
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
    broker: DeliveryBroker, message_pk: int, refresh_widget: bool = False
) -> dramatiq.Message:
    """Enqueue one `deliver_message` job."""
    return broker.enqueue(delivery_job(message_pk, refresh_widget))


def enqueue_deliveries(
    broker: DeliveryBroker, pks: list[int], refresh_pks: list[int]
) -> dict[int, dramatiq.Message]:
    """Enqueue the delivery jobs of a batch (and its widget refreshes) at once: one round trip
    on Redis. The tracked jobs, by message pk."""
    messages = [delivery_job(pk) for pk in pks] + [delivery_job(pk, True) for pk in refresh_pks]
    return dict(zip(pks, broker.enqueue_all(messages), strict=False))


def wait_results(
    broker: DeliveryBroker, jobs: dict[int, dramatiq.Message], wait: float
) -> dict[int, dict[str, Any]]:
    """Results of the jobs that finish before one deadline; the others are left out (each
    store's `wait` says how it rounds what is left of the deadline)."""
    results_store: ResultStore = broker.get_results_backend()
    deadline = time.monotonic() + wait
    results: dict[int, dict[str, Any]] = {}
    for pk, message in jobs.items():
        try:
            results[pk] = results_store.wait(message, int((deadline - time.monotonic()) * 1000))
        except Exception:  # noqa: BLE001 - timeout, missing or a failed job: read its row
            continue
    return results


def broker_reachable(broker: DeliveryBroker) -> bool:
    """True when the broker answers; the in-process broker of the embedded mode always does."""
    return broker.reachable()
