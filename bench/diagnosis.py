"""What explains the throughput: where the processes spend their time (profiles) and their CPU
and memory."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench import load, profiling
from bench.cpu import CpuMeter
from bench.memory import RssSampler, descendants
from bench.production import Production
from bench.report import PROD, Row

if TYPE_CHECKING:  # the figures call these; only the type is needed here
    from bench.figures import Bench


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


IDLE_SECONDS = 10.0


def idle(bench: Bench, prod: Production) -> None:
    """CPU of the web and worker process trees while nothing is sent: what an idle deployment
    costs (the worker's idle polls of Redis and its threads' waits)."""
    time.sleep(2.0)  # whatever ran before has settled
    with CpuMeter({"web": prod.web.pid, "worker": prod.worker.pid}) as cpu:
        time.sleep(IDLE_SECONDS)
    for role, name in (("web", "web (gunicorn)"), ("worker", "worker (dramatiq)")):
        busy = 1000 * cpu.seconds[role] / cpu.elapsed
        note = f"ms of CPU each second over {IDLE_SECONDS:g} s with no load, every process"
        bench.rows.append(Row(f"CPU while idle, {name}", PROD, busy, busy, "ms/s", note=note))
