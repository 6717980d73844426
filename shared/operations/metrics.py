"""Every Prometheus metric of Herald, and how `/metrics` collects them across processes."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator

import dramatiq
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.operations.queues import queue_depths

# With PROMETHEUS_MULTIPROC_DIR set (the Procfile and docker-compose.yml set it), each process
# writes its samples to files there and `/metrics` sums them. A process is named by host and
# pid, not pid alone: containers sharing the folder have pids that collide. prometheus_client
# reads the variable itself (when imported, and for each sample file it opens), so it is not a
# Setting: Herald reads it here too, at import, before any metric is created.
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
HOST = socket.gethostname().replace("_", "-")


def process_name(pid: int | None = None) -> str:
    """The name of a process's sample files: its host and its pid."""
    return f"{HOST}-{os.getpid() if pid is None else pid}"


if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, exist_ok=True)
    values.ValueClass = values.MultiProcessValue(process_name)

REQUESTS = Counter("herald_http_requests_total", "HTTP requests.", ["endpoint", "status"])
LATENCY = Histogram("herald_http_request_seconds", "HTTP request time.", ["endpoint"])
MESSAGES = Counter(
    "herald_messages_total", "Messages that reached a final status in a worker.", ["status"]
)
CRASHED_MESSAGES = Counter(
    "herald_messages_crashed_total", "Messages failed with delivery/crashed."
)
OUTCOMES = Counter(
    "herald_channel_outcomes_total", "Final channel outcomes.", ["channel", "status"]
)
PROVIDER_SENDS = Counter(
    "herald_provider_sends_total",
    "Channel sends by provider and outcome (after retries).",
    ["channel", "provider", "outcome"],
)
SEND_SECONDS = Histogram(
    "herald_provider_send_seconds", "Provider call time, retries included.", ["channel", "provider"]
)
PROVIDER_ATTEMPTS = Counter(
    "herald_provider_attempts_total",
    "Each provider attempt of a chain, by outcome: sent, failed (refused the recipient), "
    "unknown, failover (a provider-level failure) or skipped (its circuit open).",
    ["channel", "provider", "outcome"],
)
PROVIDER_ATTEMPT_SECONDS = Histogram(
    "herald_provider_attempt_seconds",
    "One provider attempt's time (the last member's retries included).",
    ["channel", "provider"],
)
WEBHOOK_POSTS = Counter(
    "herald_webhook_posts_total",
    "Posts of webhook events, by what the delivery became: succeeded, pending (a retry is "
    "due) or failed.",
    ["status"],
)
WEBHOOK_POST_SECONDS = Histogram("herald_webhook_post_seconds", "One webhook post's time.")
RENDER_SECONDS = Histogram(
    "herald_render_seconds",
    "Time to render a message's channels.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
STREAM_CONNECTIONS = Gauge(
    "herald_stream_connections",
    "Open feed stream connections.",
    multiprocess_mode="livesum",
)


class QueueDepth(Collector):
    """The delivery queue's jobs by state, read from the broker at each scrape."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "herald_queue_jobs", "Delivery jobs in the broker, by state.", labels=["state"]
        )
        try:
            depths = queue_depths(self.broker)
        except Exception:  # noqa: BLE001 - an unreachable broker shows as no samples
            depths = {}
        for state, count in depths.items():
            family.add_metric([state], count)
        yield family


class CircuitStates(Collector):
    """Each default provider's circuit, read from the breaker at each scrape (in production
    its Redis hashes, so every worker process's failures are in it)."""

    def __init__(self, read: Callable[[], list[tuple[str, str, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "herald_provider_circuit_state",
            "A provider's circuit: 0 closed, 1 half-open, 2 open.",
            labels=["channel", "provider"],
        )
        try:
            states = self.read()
        except Exception:  # noqa: BLE001 - an unreachable Redis shows as no samples
            states = []
        for channel, provider, state in states:
            family.add_metric([channel, provider], state)
        yield family


def host_registry() -> CollectorRegistry:
    """The samples of every Herald process of this host: summed from the sample files in
    multiprocess mode (each collect reads them anew), this process's registry otherwise."""
    if not MULTIPROC_DIR:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, MULTIPROC_DIR)
    return registry


def exposition(
    broker: dramatiq.Broker, circuits: Callable[[], list[tuple[str, str, int]]] | None = None
) -> bytes:
    """The text of `/metrics`: every process's samples (summed in multiprocess mode, this
    process's otherwise), the queue depths and the circuits' states."""
    registry = host_registry()
    queue = CollectorRegistry()
    queue.register(QueueDepth(broker))
    if circuits is not None:
        queue.register(CircuitStates(circuits))
    return generate_latest(registry) + generate_latest(queue)


def process_exited(pid: int) -> None:
    """Drop the live gauges of a process that exited (its counters stay in the sums)."""
    if MULTIPROC_DIR:
        multiprocess.mark_process_dead(process_name(pid), MULTIPROC_DIR)
