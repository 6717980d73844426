"""`webhooks`: what the webhook outbox costs the hot path, and how fast one `webhooks` process
posts. The throughput load at provider latency 0 runs twice, without an endpoint and with one
subscribed to `*` (a fast local receiver, `bench/webhook_sink.py`): CPU per message of the web,
the worker and the webhooks process, and PostgreSQL transactions and scans per message
(statistics deltas, read after they settle). Then the time the `webhooks` process (1 process,
16 threads) takes to post what the second run wrote: events a second."""

from __future__ import annotations

import json
import time

import psycopg

from bench.counts import SETTLE, STATISTICS
from bench.cpu import CpuMeter
from bench.figures import Bench, message_runs
from bench.processes import clean_env, free_port, procfile, run
from bench.production import Production, wait_port
from bench.report import PROD, Row

PENDING = "SELECT count(*) FROM webhook_events WHERE dispatched_at IS NULL"
UNPOSTED = "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"


def _statistics(prod: Production) -> tuple[int, ...]:
    with psycopg.connect(prod.database_url, autocommit=True) as connection:
        return tuple(int(value) for value in connection.execute(STATISTICS).fetchone())


def _scalar(prod: Production, query: str) -> int:
    with psycopg.connect(prod.database_url, autocommit=True) as connection:
        return connection.execute(query).fetchone()[0]


def _run(bench: Bench, prod: Production, label: str, extra: dict) -> dict:
    """One measured series: CPU ms a message per role, transactions and scans a message."""
    time.sleep(SETTLE)
    before = _statistics(prod)
    cpu = CpuMeter({"web": prod.web.pid, "worker": prod.worker.pid, **extra})
    runs = message_runs(bench, prod.base_url, prod.project["apiKey"], label, (cpu,))
    done = max(sum(r["done"] for r in runs), 1)
    time.sleep(SETTLE)
    after = _statistics(prod)
    figures = {f"{role} CPU": 1000 * cpu.seconds[role] / done for role in cpu.seconds}
    figures["transactions"] = (after[0] - before[0]) / done
    figures["table scans"] = (after[2] - before[2]) / done
    figures["rate"] = sum(r["rate"] for r in runs) / len(runs)
    return figures


def webhooks(bench: Bench, prod: Production) -> None:
    prod.ensure_standin(0.0)
    prod.start_worker(HERALD_WEBHOOKS_ALLOW_PRIVATE="1")
    prod.wait_delivering()
    without = _run(bench, prod, "wh0", {})
    port = free_port()
    sink = bench.processes.start(
        "webhook-sink", f"python -m bench.webhook_sink --port {port}", clean_env()
    )
    wait_port(sink)
    env = prod.env(HERALD_WEBHOOKS_ALLOW_PRIVATE="1")
    added = run(
        [
            "herald",
            "webhooks",
            "add",
            prod.project["projectId"],
            "--url",
            f"http://127.0.0.1:{port}/hooks",
        ],
        env,
    )
    assert json.loads(added)["webhook"]["id"]
    time.sleep(1.0)
    try:
        with_hook = _run(bench, prod, "wh1", {})  # the webhooks process not running yet
        _posting_rate(bench, prod, env)
    finally:
        bench.processes.stop(sink)
    for name in ("web CPU", "worker CPU", "transactions", "table scans"):
        unit = "ms" if "CPU" in name else "per msg"
        rates = f"{without['rate']:.0f} → {with_hook['rate']:.0f} msg/s"
        note = f"without an endpoint {without[name]:.2f}; throughput {rates}"
        bench.rows.append(
            Row(
                f"Webhook outbox, {name} per message, one endpoint on *",
                PROD,
                with_hook[name],
                with_hook[name],
                unit,
                note=note,
            )
        )
    prod.start_worker()
    prod.wait_delivering()


def _posting_rate(bench: Bench, prod: Production, env: dict) -> None:
    """Start the `webhooks` process on the written outbox; events posted a second."""
    events = _scalar(prod, PENDING)
    hooks = bench.processes.start(
        "webhooks", procfile("webhooks"), {**env, "HERALD_WEBHOOK_PROCESSES": "1"}
    )
    started = time.monotonic()
    try:
        cpu = CpuMeter({"webhooks": hooks.pid})
        with cpu:
            deadline = started + 300
            while (
                _scalar(prod, PENDING) or _scalar(prod, UNPOSTED)
            ) and time.monotonic() < deadline:
                time.sleep(0.2)
        seconds = time.monotonic() - started
    finally:
        bench.processes.stop(hooks)
    rate = events / seconds
    ms = 1000 * cpu.seconds["webhooks"] / max(events, 1)
    note = f"{events} events; {ms:.2f} ms CPU an event in the webhooks process (its start included)"
    bench.rows.append(
        Row(
            "Webhook posts, one webhooks process × 16 threads, fast local receiver",
            PROD,
            rate,
            rate,
            "events/s",
            note=note,
        )
    )
