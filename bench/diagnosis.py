"""What explains the throughput: the bound the irreducible parts allow, and where the processes
spend their time (profiles) and their CPU and memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench import bound, load, profiling
from bench.cpu import CpuMeter
from bench.memory import RssSampler, descendants
from bench.production import REDIS_URL, Production
from bench.report import PROD, Row

if TYPE_CHECKING:  # the figures call these; only the type is needed here
    from bench.figures import Bench
from bench.stats import median, summary


def bounds(bench: Bench, prod: Production) -> None:
    """The irreducible parts done directly, the bound they give, and Herald's share of it."""
    runs = _part_runs(bench, prod)
    _part_rows(bench, runs)
    _bound_rows(bench, runs)


def _part_runs(bench: Bench, prod: Production) -> dict[str, list[dict]]:
    """Each irreducible part done directly, `plan.runs` times after a short warm-up run."""
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
    return runs


def _part_rows(bench: Bench, runs: dict[str, list[dict]]) -> None:
    """A row per part: its rate and its median call."""
    plan = bench.plan
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


def _bound_rows(bench: Bench, runs: dict[str, list[dict]]) -> None:
    """The bound the parts give together, and Herald's measured throughput as a share of it."""
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


def cpu_rows(bench: Bench, cpu: CpuMeter, delivered: int) -> None:
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


def memory_rows(bench: Bench, rss: RssSampler) -> None:
    """Peak memory of the web and worker trees: the largest process, and the whole tree."""
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
