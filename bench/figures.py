"""Each figure of the issue: set Herald up for it, drive the load process, turn runs into rows."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from bench import load
from bench.cpu import CpuMeter
from bench.diagnosis import cpu_rows, memory_rows
from bench.embedded import Embedded
from bench.load import LoadProcess
from bench.memory import RssSampler
from bench.plan import Plan
from bench.processes import Processes
from bench.production import Production
from bench.report import PROD, Row
from bench.stats import median, summary


@dataclass
class Bench:
    """What every figure uses, and what they produce."""

    plan: Plan
    load: LoadProcess
    processes: Processes
    folder: Path
    rows: list[Row] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    herald_rates: list[float] = field(default_factory=list)  # throughput at 0 ms, per run


def message_runs(bench: Bench, url: str, key: str, prefix: str, meters=()) -> list[dict]:
    """An untimed warm-up, then `plan.runs` timed closed-loop `messages.send` runs, with the
    `meters` (context managers) open around the timed runs only."""
    plan = bench.plan

    def one(suffix: str, seconds: float) -> dict:
        return bench.load.call(
            load.message_load,
            url,
            key,
            f"{prefix}-{suffix}",
            plan.clients,
            plan.client_batch,
            seconds,
        )

    one("warm", plan.warmup)
    with contextlib.ExitStack() as stack:
        for meter in meters:
            stack.enter_context(meter)
        return [one(f"r{i}", plan.seconds) for i in range(plan.runs)]


def _rate_row(figure: str, mode: str, runs: list[dict], unit: str, **extra) -> Row:
    """A row of rates over runs, with what went wrong in them."""
    p50, p99 = summary([run["rate"] for run in runs], higher_is_better=True)
    other = sum(run["other"] for run in runs)
    errors = [error for run in runs for error in run["errors"]]
    notes = [extra.pop("note", "")]
    if other:
        notes.append(f"{other} items not done right")
    if errors:
        notes.append(f"{len(errors)} client errors, first: {errors[0][:120]}")
    return Row(figure, mode, p50, p99, unit, note="; ".join(n for n in notes if n), **extra)


def latency(
    bench: Bench, herald: Production | Embedded, mode: str, latencies: tuple[float, ...]
) -> None:
    """One 50-message batch (each message by e-mail, SMS and widget) at a time, timed."""
    for seconds in latencies:
        if isinstance(herald, Production):
            herald.ensure_standin(seconds)
        label = f"provider {int(seconds * 1000)} ms" if mode == PROD else "outbox"
        row = _batch_row(bench, herald, mode, label)
        if seconds == 0.1 and mode == PROD:
            row.target, row.met = "p50 ≤ 400, p99 ≤ 800", row.p50 <= 400 and row.p99 <= 800
        bench.rows.append(row)


def _batch_row(bench: Bench, herald: Production | Embedded, mode: str, label: str) -> Row:
    """Timed batches, one at a time after an idle pause, as a row."""
    plan = bench.plan
    result = bench.load.call(
        load.timed_batches,
        herald.base_url,
        herald.project["apiKey"],
        "lat",
        plan.batch_size,
        plan.latency_batches,
        plan.latency_pause,
    )
    p50, p99 = summary([s * 1000 for s in result["seconds"]])
    row = Row(
        f"Batch latency, {plan.batch_size} msgs, {label}",
        mode,
        p50,
        p99,
        "ms",
        note=f"{len(result['seconds'])} batches, each after {plan.latency_pause:g} s idle",
    )
    if result["undelivered"]:
        row.note += f"; {result['undelivered']} messages not delivered"
    return row


def throughput(bench: Bench, prod: Production) -> None:
    """Many clients, provider latency 0; RSS and CPU of every process sampled meanwhile."""
    prod.ensure_standin(0.0)
    roots = {"web": prod.web.pid, "worker": prod.worker.pid}
    rss = RssSampler(roots)
    cpu = CpuMeter({**roots, "stand-in": prod.standin.pid, "load": bench.load.process.pid})
    runs = message_runs(bench, prod.base_url, prod.project["apiKey"], "tp", (rss, cpu))
    bench.herald_rates = [run["rate"] for run in runs]
    plan = bench.plan
    row = _rate_row(
        f"Throughput, provider 0 ms, {plan.clients} clients × {plan.client_batch} msgs",
        PROD,
        runs,
        "msg/s",
        note="worker as the Procfile runs it: 2 processes × 32 threads, prefetch 16",
    )
    row.target, row.met = "≥ 300", row.p50 >= 300
    bench.rows.append(row)
    memory_rows(bench, rss)
    cpu_rows(bench, cpu, sum(run["done"] for run in runs))


def upsert(bench: Bench, prod: Production) -> None:
    """users.upsert of new users, 100 per request, from several clients."""
    plan = bench.plan

    def one(suffix: str, seconds: float) -> dict:
        return bench.load.call(
            load.upsert_load,
            prod.base_url,
            prod.project["apiKey"],
            f"up-{suffix}",
            plan.upsert_clients,
            plan.upsert_batch,
            seconds,
        )

    one("warm", plan.warmup)
    runs = [one(f"r{i}", plan.seconds) for i in range(plan.runs)]
    row = _rate_row(
        f"users.upsert, batches of {plan.upsert_batch}, {plan.upsert_clients} clients",
        PROD,
        runs,
        "users/s",
    )
    row.target, row.met = "≥ 5,000", row.p50 >= 5000
    bench.rows.append(row)
    bench.rows.append(_upsert_alone_row(bench, prod))


def _upsert_alone_row(bench: Bench, prod: Production) -> Row:
    """users.upsert of one batch at a time, one client: the latency of one request."""
    plan = bench.plan
    alone = bench.load.call(
        load.upsert_load,
        prod.base_url,
        prod.project["apiKey"],
        "up-one",
        1,
        plan.upsert_batch,
        plan.seconds,
    )
    p50, p99 = summary([s * 1000 for s in alone["latencies"]])
    return Row(
        f"users.upsert of {plan.upsert_batch} users, one request at a time",
        PROD,
        p50,
        p99,
        "ms",
        note=f"{len(alone['latencies'])} requests over HTTP, one client",
    )


def threads(bench: Bench, prod: Production) -> None:
    """Throughput with provider latency 100 ms as a function of the worker's threads."""
    prod.ensure_standin(0.1)
    for count in bench.plan.thread_counts:
        prod.start_worker(threads=count, processes=2, HERALD_WORKER_PREFETCH=str(count))
        prod.wait_delivering()
        runs = message_runs(bench, prod.base_url, prod.project["apiKey"], f"th{count}")
        bench.rows.append(
            _rate_row(
                f"Throughput, provider 100 ms, {count} worker threads per process",
                PROD,
                runs,
                "msg/s",
                note=f"2 processes × {count} threads, prefetch {count}; ≤ {count * 20} "
                "if a message holds its thread ≥ 100 ms",
            )
        )
    prod.start_worker()
    prod.wait_delivering()


def scaling(bench: Bench, prod: Production) -> None:
    """Throughput at provider latency 0 with 1 and 2 worker processes (32 threads each)."""
    prod.ensure_standin(0.0)
    rates = {}
    for count in (1, 2):
        prod.start_worker(processes=count)
        prod.wait_delivering()
        runs = message_runs(bench, prod.base_url, prod.project["apiKey"], f"sc{count}")
        rates[count] = median([run["rate"] for run in runs])
        note = f"× {rates[2] / rates[1]:.2f} of 1 process" if count == 2 else ""
        bench.rows.append(
            _rate_row(
                f"Scaling, provider 0 ms, {count} worker process(es)",
                PROD,
                runs,
                "msg/s",
                note=note,
            )
        )
    prod.start_worker()
    prod.wait_delivering()


def embedded(bench: Bench) -> None:
    """The embedded default: batch latency and throughput, and its one process's RSS."""
    herald = Embedded(bench.processes)
    try:
        herald.setup()
        latency(bench, herald, "embedded", (0.0,))
        with RssSampler({"embedded": herald.web.pid}) as rss:
            runs = message_runs(bench, herald.base_url, herald.project["apiKey"], "emb")
        plan = bench.plan
        bench.rows.append(
            _rate_row(
                f"Throughput, outbox, {plan.clients} clients × {plan.client_batch} msgs",
                "embedded",
                runs,
                "msg/s",
                note="SQLite, in-process worker of 32 threads",
            )
        )
        largest, _ = rss.megabytes("embedded")
        bench.rows.append(
            Row(
                "Peak RSS, herald serve",
                "embedded",
                largest,
                largest,
                "MB",
                note="one process: web and worker",
            )
        )
    finally:
        if herald.web is not None:
            bench.processes.stop(herald.web)
        herald.teardown()
