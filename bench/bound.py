"""The bound: Herald's irreducible parts done directly, each alone at full concurrency, and the
message rate those parts alone would allow on this machine.

A message costs one SES send, one SNS publish, one enqueue -> actor -> result round trip, and
one message row insert and update. Each part's rate measures the machine time one of it takes
(the stand-in, Redis and PostgreSQL included), so the bound is 1 / (sum of 1 / rate).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable

import dramatiq
import psycopg

from bench.payloads import EMAIL_FROM, telephone
from shared.infra.broker import build_broker
from shared.infra.config import Settings
from shared.providers.urls import parse_provider_url
from worker.providers import Email, Sms

NOOP_QUEUE, NOOP_ACTOR = "bench-noop", "noop"
PARTS = ("ses", "sns", "dramatiq", "rows")
INSERT = (
    "INSERT INTO messages (project_id, id, user_id, notification_id, data, increment, "
    "status, email_status, sms_status, widget_status, feed_at, created_at, updated_at) "
    "VALUES (%s, %s, 'bound-user', 'bench-alert', '{}', 1, 'queued', 'pending', 'pending', "
    "'pending', now(), now(), now()) RETURNING pk"
)
UPDATE = (
    "UPDATE messages SET status = 'sent', email_status = 'sent', email_provider_id = %s, "
    "sms_status = 'sent', sms_provider_id = %s, widget_status = 'sent', updated_at = now() "
    "WHERE pk = %s"
)
Setup = Callable[[], tuple[Callable[[], object], Callable[[], object]]]


def bound_rate(rates: dict[str, float]) -> float:
    """Messages per second the parts alone allow: one of each part per message."""
    return 1 / sum(1 / rates[part] for part in PARTS)


def aws_sends(
    service: str, endpoint: str, threads: int, seconds: float, start_at: float = 0.0
) -> dict:
    """SES `SendEmail` or SNS `Publish` as Herald's provider posts it (signed requests by
    default, `HERALD_AWS_CALLS`), with its request, from many threads."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "testing"
    settings = Settings(aws_endpoint_url=endpoint, worker_threads=threads)
    if service == "ses":
        from worker.providers.ses import SesEmailProvider

        provider = SesEmailProvider(settings, parse_provider_url("email", "ses"))
        request = provider.build(
            Email(
                "bound-1",
                "ada@example.com",
                EMAIL_FROM,
                "Bench",
                None,
                "Build finished",
                "<p>Hello Ada</p>",
                "Hello Ada",
            )
        )
    else:
        from worker.providers.sns import SnsSmsProvider

        provider = SnsSmsProvider(settings, parse_provider_url("sms", "sns"))
        request = provider.build(Sms("bound-1", telephone(1), "Build finished: ok", None))
    return timed_threads(
        threads, seconds, lambda: (lambda: provider.post(request), lambda: None), start_at
    )


def dramatiq_round_trips(
    redis_url: str, threads: int, seconds: float, start_at: float = 0.0
) -> dict:
    """Enqueue a no-op job and wait for its result, on Herald's broker and result backend."""
    broker = build_broker(Settings(redis_url=redis_url))
    broker.declare_queue(NOOP_QUEUE)
    backend = broker.get_results_backend()

    def round_trip() -> None:
        message = broker.enqueue(
            dramatiq.Message(
                queue_name=NOOP_QUEUE, actor_name=NOOP_ACTOR, args=(), kwargs={}, options={}
            )
        )
        backend.get_result(message, block=True, timeout=30_000)

    try:
        return timed_threads(threads, seconds, lambda: (round_trip, lambda: None), start_at)
    finally:
        broker.close()


def row_writes(
    database_url: str, project_id: str, threads: int, seconds: float, start_at: float = 0.0
) -> dict:
    """Insert a message row, then mark it sent: two transactions, as Herald's are."""

    def setup():
        connection = psycopg.connect(database_url, autocommit=True)

        def write() -> None:
            pk = connection.execute(
                INSERT, (project_id, f"bound-{secrets.token_hex(8)}"), prepare=True
            ).fetchone()[0]
            connection.execute(UPDATE, ("e-1", "s-1", pk), prepare=True)

        return write, connection.close

    return timed_threads(threads, seconds, setup, start_at)


def timed_threads(threads: int, seconds: float, setup: Setup, start_at: float = 0.0) -> dict:
    """`threads` threads repeat their operation from `start_at` (`time.time()`) to the deadline:
    ops/s and median ms. `setup` gives each thread (operation, cleanup); one untimed call warms."""
    first, cleanup = setup()
    first()
    cleanup()
    time.sleep(max(0.0, start_at - time.time()))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    def run() -> None:
        mine, done = [], None
        try:
            operation, done = setup()  # a connection refused here is an error like any other
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                operation()
                mine.append(time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001 - reported with the figures
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        finally:
            if done is not None:
                done()
            with lock:
                latencies.extend(mine)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 60)
    elapsed = time.perf_counter() - deadline + seconds
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "ms": latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
        "errors": errors,
    }
