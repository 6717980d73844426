"""Each figure of the issue: set Herald up for it, drive the load process, turn runs into rows."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from bench import bound, load, profiling
from bench.cpu import CpuMeter
from bench.embedded import Embedded
from bench.load import LoadProcess
from bench.memory import RssSampler, descendants
from bench.plan import Plan
from bench.processes import Processes
from bench.production import REDIS_URL, Production
from bench.report import Row
from bench.stats import median, summary

PROD = "production"


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
    for role, shape in (
        ("web", "gunicorn master + 2 workers"),
        ("worker", "dramatiq main + 2 worker processes"),
    ):
        largest, total = rss.megabytes(role)
        bench.rows.append(
            Row(
                f"Peak RSS, {role}, largest process",
                PROD,
                largest,
                largest,
                "MB",
                "≤ 200",
                largest <= 200,
                f"VmHWM {rss.hwm_mb(role):.0f} MB",
            )
        )
        bench.rows.append(
            Row(
                f"Peak PSS, {role}, whole tree",
                PROD,
                total,
                total,
                "MB",
                "",
                None,
                f"{shape}; shared pages counted once; the target is per process",
            )
        )
    _cpu_rows(bench, cpu, sum(run["done"] for run in runs))


def _cpu_rows(bench: Bench, cpu: CpuMeter, delivered: int) -> None:
    """CPU milliseconds per delivered message, per process and for the rest of the machine."""
    names = {
        "web": "web (gunicorn)",
        "worker": "worker (dramatiq)",
        "stand-in": "SES/SNS stand-in",
        "load": "load generator",
    }
    rest = cpu.machine_cores - sum(cpu.cores(role) for role in names)
    shares = [(names[role], cpu.seconds[role], cpu.cores(role)) for role in names]
    shares.append(("rest: PostgreSQL, Redis, anything else", rest * cpu.elapsed, rest))
    for name, seconds, cores in shares:
        ms = 1000 * seconds / max(delivered, 1)
        bench.rows.append(
            Row(
                f"CPU per message, {name}",
                PROD,
                ms,
                ms,
                "ms",
                note=f"{cores:.2f} cores busy on average, over all runs",
            )
        )


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
    bench.rows.append(
        Row(
            f"users.upsert of {plan.upsert_batch} users, one request at a time",
            PROD,
            p50,
            p99,
            "ms",
            note=f"{len(alone['latencies'])} requests over HTTP, one client",
        )
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


def bounds(bench: Bench, prod: Production) -> None:
    """The irreducible parts done directly, the bound they give, and Herald's share of it."""
    prod.ensure_standin(0.0)
    plan = bench.plan
    noop = bench.processes.start(
        "noop-worker",
        f"dramatiq bench.noop --processes 1 --threads 32 --queues {bound.NOOP_QUEUE}",
        prod.env(),
    )
    runs: dict[str, list[dict]] = {}
    try:
        for i in range(plan.runs):
            for part, function, args in (
                ("ses", bound.aws_sends, ("ses", prod.standin_url)),
                ("sns", bound.aws_sends, ("sns", prod.standin_url)),
                ("dramatiq", bound.dramatiq_round_trips, (REDIS_URL,)),
                ("rows", bound.row_writes, (prod.database_url, prod.project["projectId"])),
            ):
                seconds = plan.seconds / 2 if i else 1.0  # the first, short run warms up
                result = bench.load.call(function, *args, plan.bound_threads, seconds)
                if result["errors"]:
                    raise RuntimeError(f"bound part {part} failed: {result['errors'][0]}")
                if i:
                    runs.setdefault(part, []).append(result)
    finally:
        bench.processes.stop(noop)
    names = {
        "ses": "one SES SendEmail (boto3)",
        "sns": "one SNS Publish (boto3)",
        "dramatiq": "one enqueue → no-op actor → result",
        "rows": "one row insert + update",
    }
    for part in bound.PARTS:
        p50, p99 = summary([r["rate"] for r in runs[part]], higher_is_better=True)
        bench.rows.append(
            Row(
                f"Bound part: {names[part]}",
                PROD,
                p50,
                p99,
                "ops/s",
                note=(
                    f"{plan.bound_threads} threads; median call "
                    f"{median([r['ms'] for r in runs[part]]):.1f} ms"
                ),
            )
        )
    per_run = [
        bound.bound_rate({part: runs[part][i]["rate"] for part in bound.PARTS})
        for i in range(len(runs["ses"]))
    ]
    p50, p99 = summary(per_run, higher_is_better=True)
    bench.rows.append(
        Row(
            "Bound: messages/s the parts alone allow",
            PROD,
            p50,
            p99,
            "msg/s",
            note="1 / Σ (1 / part rate)",
        )
    )
    if bench.herald_rates:
        ratios = [100 * rate / p50 for rate in bench.herald_rates]
        q50, q99 = summary(ratios, higher_is_better=True)
        bench.rows.append(
            Row(
                "Herald throughput / bound",
                PROD,
                q50,
                q99,
                "%",
                "≥ 50",
                q50 >= 50,
                "throughput runs at 0 ms over the bound's median",
            )
        )


def profile(bench: Bench, prod: Production) -> None:
    """Sample the dramatiq and gunicorn workers under `messages.send` load, then gunicorn's
    under `users.upsert` load."""
    prod.ensure_standin(0.0)
    plan, key = bench.plan, prod.project["apiKey"]
    seconds = plan.profile_seconds
    web = _children(prod.web.pid)
    tables = []
    for name, function, args, pids in (
        (
            "messages.send",
            load.message_load,
            (plan.clients, plan.client_batch),
            {"worker": _children(prod.worker.pid), "web": web},
        ),
        ("users.upsert", load.upsert_load, (plan.upsert_clients, plan.upsert_batch), {"web": web}),
    ):
        running = bench.load.start(function, prod.base_url, key, f"prof-{name}", *args, seconds + 3)
        files = profiling.record(pids, seconds, bench.folder / name)
        running.result(seconds + 180)
        tables += [
            profiling.top_table(f"{role} under {name} load", paths) for role, paths in files.items()
        ]
    bench.sections.append(
        f"Profiles (py-spy, {seconds:g} s each, provider 0 ms):\n\n" + "\n".join(tables)
    )


def _children(root: int) -> list[int]:
    """The processes below a supervisor (gunicorn's master, dramatiq's main process)."""
    return [pid for pid in descendants(root) if pid != root]


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
