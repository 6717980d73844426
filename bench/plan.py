"""How often and how long each figure is measured: a full run, or a `--quick` smoke run."""

from __future__ import annotations

from dataclasses import dataclass

FIGURES = (
    "idle",
    "latency",
    "throughput",
    "counts",
    "memory",
    "threads",
    "upsert",
    "scaling",
    "bound",
    "embedded",
    "profile",
    "smtp",
    "webhooks",
)


@dataclass(frozen=True)
class Plan:
    """Repetitions and durations; the load's shape is the same in both runs."""

    latency_batches: int  # timed 50-message batches per provider latency
    latency_pause: float  # idle seconds before each timed batch
    runs: int  # repeated runs of each rate figure
    seconds: float  # length of one rate run
    warmup: float  # untimed load before a series of runs
    thread_counts: tuple[int, ...]
    profile_seconds: float
    batch_size: int = 50  # SPEC's batch limit
    clients: int = 16  # concurrent HTTP clients of the rate figures
    client_batch: int = 10  # messages per request of the rate figures
    upsert_clients: int = 8
    upsert_batch: int = 100
    bound_threads: int = 16


FULL = Plan(
    latency_batches=15,
    latency_pause=1.0,
    runs=4,
    seconds=6.0,
    warmup=2.0,
    thread_counts=(8, 32, 64),
    profile_seconds=8.0,
)
QUICK = Plan(
    latency_batches=5,
    latency_pause=1.0,
    runs=2,
    seconds=3.0,
    warmup=1.0,
    thread_counts=(8, 32),
    profile_seconds=4.0,
)
