"""The bound figure: each irreducible part measured in one process and in one process per core,
the bound each way, and Herald's throughput as a share of both."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from bench import bound
from bench.production import REDIS_URL, Production
from bench.report import PROD, Row
from bench.stats import median, summary

if TYPE_CHECKING:  # the figures call these; only the type is needed here
    from bench.figures import Bench

NAMES = {
    "ses": "one SES SendEmail (signed, as Herald sends it)",
    "sns": "one SNS Publish (signed, as Herald sends it)",
    "dramatiq": "one enqueue → no-op actor → result",
    "rows": "one row insert + update",
}
TARGET = 65  # % of the bound measured one process per core


class Spread:
    """Spawned processes that run one bound part at once, each with its own threads (and GIL),
    starting together; their rates add up."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        # Start every process now (a spawned interpreter takes a while to import).
        list(self.pool.map(time.sleep, [0.5] * processes))

    def run(self, processes: int, function, *args, threads: int, seconds: float) -> dict:
        """`function(*args, threads, seconds, start_at)` in `processes` processes at once."""
        start_at = time.time() + 1.0
        futures = [
            self.pool.submit(function, *args, threads, seconds, start_at) for _ in range(processes)
        ]
        results = [future.result(timeout=seconds + 120) for future in futures]
        return {
            "rate": sum(result["rate"] for result in results),
            "ms": median([result["ms"] for result in results]),
            "errors": [error for result in results for error in result["errors"]],
        }

    def close(self) -> None:
        """Stop the processes."""
        self.pool.shutdown(wait=True, cancel_futures=True)


def bounds(bench: Bench, prod: Production) -> None:
    """The parts and the bound with one process, then with one process per core."""
    prod.ensure_standin(0.0)
    cores = os.cpu_count() or 1
    spread = Spread(cores)
    shapes = {}
    try:
        for count in sorted({1, cores}):
            try:
                shapes[count] = _part_runs(bench, prod, spread, count)
            except RuntimeError as exc:  # the other figures are still worth having
                bench.sections.append(f"The bound in {_processes(count)} was not measured: {exc}")
    finally:
        spread.close()
    for processes, runs in shapes.items():
        _part_rows(bench, runs, processes)
    for processes, runs in shapes.items():
        _bound_rows(bench, runs, processes, cores)


def _part_runs(
    bench: Bench, prod: Production, spread: Spread, processes: int
) -> dict[str, list[dict]]:
    """Each part in `processes` processes, `plan.runs` times, the first run short and untimed;
    the no-op actor's dramatiq worker runs as many processes."""
    plan = bench.plan
    noop = bench.processes.start(
        f"noop-worker-{processes}",
        f"dramatiq bench.noop --processes {processes} --threads 32 --queues {bound.NOOP_QUEUE}",
        prod.env(),
    )
    parts = (
        ("ses", bound.aws_sends, ("ses", prod.standin_url)),
        ("sns", bound.aws_sends, ("sns", prod.standin_url)),
        ("dramatiq", bound.dramatiq_round_trips, (REDIS_URL,)),
        ("rows", bound.row_writes, (prod.database_url, prod.project["projectId"])),
    )
    runs: dict[str, list[dict]] = {}
    try:
        for i in range(plan.runs):
            for part, function, args in parts:
                seconds = plan.seconds / 2 if i else 1.0
                threads = part_threads(bench, part, processes)
                result = spread.run(processes, function, *args, threads=threads, seconds=seconds)
                if result["errors"]:
                    raise RuntimeError(f"bound part {part} failed: {result['errors'][0]}")
                if i:
                    runs.setdefault(part, []).append(result)
    finally:
        bench.processes.stop(noop)
    return runs


def part_threads(bench: Bench, part: str, processes: int) -> int:
    """Threads in each process: `plan.bound_threads`, but the row writes' connections (and so
    their threads) are split over the processes, PostgreSQL's connections being few."""
    threads = bench.plan.bound_threads
    return max(1, threads // processes) if part == "rows" else threads


def _processes(count: int) -> str:
    """`1 process`, `2 processes`."""
    return f"{count} process{'es' if count > 1 else ''}"


def _part_rows(bench: Bench, runs: dict[str, list[dict]], processes: int) -> None:
    """A row per part: its rate and its median call."""
    for part in bound.PARTS:
        p50, p99 = summary([r["rate"] for r in runs[part]], higher_is_better=True)
        call = median([r["ms"] for r in runs[part]])
        shape = f"{_processes(processes)} × {part_threads(bench, part, processes)} threads"
        bench.rows.append(
            Row(
                f"Bound part: {NAMES[part]}, {_processes(processes)}",
                PROD,
                p50,
                p99,
                "ops/s",
                note=f"{shape}; median call {call:.1f} ms",
            )
        )


def _bound_rows(bench: Bench, runs: dict[str, list[dict]], processes: int, cores: int) -> None:
    """The bound the parts give together, and Herald's measured throughput as a share of it."""
    per_run = [
        bound.bound_rate({part: runs[part][i]["rate"] for part in bound.PARTS})
        for i in range(len(runs["ses"]))
    ]
    p50, p99 = summary(per_run, higher_is_better=True)
    how = "one process" if processes == 1 else f"one process per core ({processes})"
    bench.rows.append(
        Row(
            f"Bound: messages/s the parts alone allow, {how}",
            PROD,
            p50,
            p99,
            "msg/s",
            note=f"1 / Σ (1 / part rate); parts in {_processes(processes)}",
        )
    )
    if not bench.herald_rates:
        return
    ratios = [100 * rate / p50 for rate in bench.herald_rates]
    q50, q99 = summary(ratios, higher_is_better=True)
    row = Row(f"Herald throughput / bound, {how}", PROD, q50, q99, "%")
    row.note = "throughput runs at 0 ms over the bound's median"
    if processes == cores:  # the bound of the machine, not of one GIL
        row.target, row.met = f"≥ {TARGET}", q50 >= TARGET
    bench.rows.append(row)
