"""What Herald did in the last hour, minute by minute, as the operator page draws it.

Counts come from the messages table (so every web and worker process is in them); provider
latency comes from the `herald_provider_send_seconds` histogram of a Prometheus registry (in
multiprocess mode, every process's samples summed), differenced against the oldest snapshot
of the last hour this process took of it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy import Connection, func, select

from shared.channels import ERRORS, MESSAGE_FINAL, NOT_TRIED, Channel, MessageStatus
from shared.infra.models import messages

WINDOW = 60  # minutes
SENT_BY_PROVIDER = [channel for channel in Channel if channel.sent_by_provider]
OUTCOMES = [status for status in MessageStatus if status in MESSAGE_FINAL]  # sent, failed
LATENCY_METRIC = "herald_provider_send_seconds"
QUANTILES = (0.5, 0.9, 0.99)


def _minute(connection: Connection, column):
    """The column truncated to its minute, in the dialect's words."""
    if connection.dialect.name == "postgresql":
        return func.date_trunc("minute", column)
    return func.strftime("%Y-%m-%d %H:%M:00", column)


def _as_datetime(value: Any) -> datetime:
    """A minute bucket as an aware UTC datetime (SQLite answers text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def per_minute(connection: Connection, now: datetime) -> dict[str, Any]:
    """Messages finished per minute by outcome, and each channel's error rate per minute."""
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=WINDOW - 1)
    minute = _minute(connection, messages.c.updated_at).label("minute")
    statuses = [channel.status for channel in SENT_BY_PROVIDER]
    rows = connection.execute(
        select(minute, messages.c.status, *statuses, func.count().label("n"))
        .where(messages.c.updated_at >= start, messages.c.status.in_(OUTCOMES))
        .group_by(minute, messages.c.status, *statuses)
    ).all()
    outcomes = {status: [0] * WINDOW for status in OUTCOMES}
    channels = {c: {"total": [0] * WINDOW, "errors": [0] * WINDOW} for c in SENT_BY_PROVIDER}
    for row in rows:
        index = int((_as_datetime(row.minute) - start).total_seconds() // 60)
        if not 0 <= index < WINDOW:
            continue
        outcomes[row.status][index] += row.n
        for channel in SENT_BY_PROVIDER:
            status = row._mapping[channel.status]
            if status is not None and status not in NOT_TRIED:
                channels[channel]["total"][index] += row.n
                channels[channel]["errors"][index] += row.n if status in ERRORS else 0
    return {"start": start.isoformat(), "outcomes": outcomes, "channels": channels}


def oldest_waiting(connection: Connection, now: datetime) -> dict[str, Any] | None:
    """The message waiting longest for delivery (queued, or scheduled and due)."""
    row = connection.execute(
        select(messages.c.id, messages.c.project_id, messages.c.created_at)
        .where(
            (messages.c.status == MessageStatus.QUEUED)
            | ((messages.c.status == MessageStatus.SCHEDULED) & (messages.c.scheduled_at <= now))
        )
        .order_by(messages.c.created_at)
        .limit(1)
    ).first()
    if row is None:
        return None
    return {
        "id": row.id,
        "projectId": row.project_id,
        "createdAt": row.created_at.isoformat(),
        "waitingSeconds": round((now - row.created_at).total_seconds(), 1),
    }


class LatencyWindow:
    """Provider latency percentiles over the last hour, from a histogram's cumulative buckets:
    each look keeps a snapshot, and the figures are the difference with the oldest kept."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.snapshots: deque[tuple[float, dict]] = deque()
        self.lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        """Per channel: calls, mean and the p50/p90/p99 estimates (seconds) in the window."""
        now, current = time.monotonic(), self._buckets()
        with self.lock:
            self.snapshots.append((now, current))
            while self.snapshots and self.snapshots[0][0] < now - WINDOW * 60:
                self.snapshots.popleft()
            oldest = self.snapshots[0][1] if len(self.snapshots) > 1 else {}
        figures = {}
        for channel, (bounds, counts, total) in current.items():
            before = oldest.get(channel, (bounds, [0] * len(counts), 0.0))
            window = [a - b for a, b in zip(counts, before[1], strict=True)]
            calls = window[-1] if window else 0
            figures[channel] = {
                "calls": calls,
                "mean": (total - before[2]) / calls if calls else None,
                **{f"p{int(q * 100)}": _quantile(q, bounds, window) for q in QUANTILES},
            }
        return figures

    def _buckets(self) -> dict[str, tuple[list[float], list[float], float]]:
        """Per channel: bucket upper bounds, cumulative counts, sum of seconds."""
        found: dict[str, dict[str, Any]] = {}
        for metric in self.registry.collect():
            if metric.name != LATENCY_METRIC:
                continue
            for sample in metric.samples:
                entry = found.setdefault(sample.labels.get("channel", "?"), {"b": {}, "sum": 0.0})
                # a channel's providers add up
                if sample.name.endswith("_bucket"):
                    le = float(sample.labels["le"])
                    entry["b"][le] = entry["b"].get(le, 0.0) + sample.value
                elif sample.name.endswith("_sum"):
                    entry["sum"] += sample.value
        return {
            channel: (sorted(e["b"]), [e["b"][k] for k in sorted(e["b"])], e["sum"])
            for channel, e in found.items()
        }


def _quantile(q: float, bounds: list[float], cumulative: list[float]) -> float | None:
    """Prometheus' histogram_quantile: linear inside the bucket holding the rank."""
    if not cumulative or cumulative[-1] <= 0:
        return None
    rank = q * cumulative[-1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in zip(bounds, cumulative, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0
            return round(lower_bound + (bound - lower_bound) * share, 4)
        lower_bound, lower_count = bound, count
    return lower_bound
