"""The benchmark command: parse options, run the chosen figures, always stop what it started."""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

from bench import (
    bound_figure,
    compare,
    counts,
    diagnosis,
    figures,
    report,
    smtp_figure,
    webhook_figure,
)
from bench.compare import RESULTS
from bench.figures import Bench
from bench.load import LoadProcess
from bench.plan import FIGURES, FULL, QUICK
from bench.processes import REPO, Processes
from bench.production import Production
from bench.report import PROD

MARKDOWN = REPO / "BENCHMARKS.md"
# Figures of the production mode, in the order they run (each restores what it changed).
PRODUCTION_ORDER = (
    "idle",
    "latency",
    "throughput",
    "counts",
    "profile",
    "upsert",
    "bound",
    "threads",
    "scaling",
    "smtp",
    "webhooks",
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command's options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few repetitions and short runs: a smoke run of a minute or two",
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated figures among {', '.join(FIGURES)}"
    )
    parser.add_argument(
        "--write", action="store_true", help="write BENCHMARKS.md even for a --quick or --only run"
    )
    parser.add_argument(
        "--compare",
        metavar="REF",
        help="print each figure against a reference run: a results JSON, a name saved with "
        "--save, a run folder under bench/results, or a name under bench/reference",
    )
    parser.add_argument(
        "--save",
        metavar="NAME",
        help="save this run's figures as bench/results/NAME.json (or as NAME, a path)",
    )
    parser.add_argument("--note", default="", help="a note stored with --save")
    args = parser.parse_args(argv)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()} or set(FIGURES)
    unknown = chosen - set(FIGURES)
    if unknown:
        parser.error(
            f"unknown figures {', '.join(sorted(unknown))}; choose among {', '.join(FIGURES)}"
        )
    if "memory" in chosen:  # RSS is sampled during the throughput runs
        chosen.add("throughput")
    args.chosen = chosen
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 when every figure was measured."""
    args = parse(argv)
    reference = compare.resolve(args.compare) if args.compare else None
    load_before = os.getloadavg()[0]
    folder = RESULTS / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_term)
    processes = Processes(folder)
    load = LoadProcess()
    bench = Bench(QUICK if args.quick else FULL, load, processes, folder)
    code = report.revision()
    print(f"Herald benchmarks on {os.cpu_count()} cores, code {code}; logs in {folder}", flush=True)
    started = time.monotonic()
    try:
        if args.chosen & set(PRODUCTION_ORDER):
            production(bench, [name for name in PRODUCTION_ORDER if name in args.chosen])
        if "embedded" in args.chosen:
            _step("embedded", figures.embedded, bench)
    finally:
        processes.stop_all()
        load.close()
    if report.revision() != code:
        bench.sections.append(f"Warning: the code changed during the run (from {code}).")
    finish(args, bench, code, load_before, reference)
    print(f"\nDone in {time.monotonic() - started:.0f} s.")
    return 0


def finish(
    args: argparse.Namespace, bench: Bench, code: str, load_before: float, reference: Path | None
) -> None:
    """Print the figures; write them to the run's folder, BENCHMARKS.md and a saved run as
    asked; compare them with the reference run."""
    generated = report.document(bench.rows, report.command_line(), bench.sections, code)
    (bench.folder / "table.md").write_text(generated)
    plan = "quick" if args.quick else "full"
    run = compare.record(bench.rows, code, report.command_line(), plan, load_before)
    run["note"] = "; ".join(note for note in (args.note, run["note"]) if note)
    compare.save(run, str(bench.folder / "results.json"))
    for text in (report.table(bench.rows), report.verdict(bench.rows), *bench.sections):
        print(f"\n{text}")
    if args.write or (not args.quick and args.chosen == set(FIGURES)):
        report.write(MARKDOWN, generated)
        print(f"\nWrote {MARKDOWN.name}.")
    if args.save:
        print(f"\nSaved as {compare.save(run, args.save)}.")
    if reference is not None:
        stored = json.loads(reference.read_text())
        print(f"\n{compare.comparison(bench.rows, plan, stored, str(reference))}")


def production(bench: Bench, names: list[str]) -> None:
    """The production figures on one Production set-up, torn down even on failure."""
    prod = Production(bench.processes)
    try:
        _step("production set-up", lambda: prod.setup())
        steps = {
            "idle": lambda: diagnosis.idle(bench, prod),
            "latency": lambda: figures.latency(bench, prod, PROD, (0.0, 0.05, 0.1)),
            "throughput": lambda: figures.throughput(bench, prod),
            "profile": lambda: diagnosis.profile(bench, prod),
            "upsert": lambda: figures.upsert(bench, prod),
            "counts": lambda: counts.counts(bench, prod),
            "bound": lambda: bound_figure.bounds(bench, prod),
            "threads": lambda: figures.threads(bench, prod),
            "scaling": lambda: figures.scaling(bench, prod),
            "smtp": lambda: smtp_figure.smtp(bench, prod),
            "webhooks": lambda: webhook_figure.webhooks(bench, prod),
        }
        for name in names:
            _step(name, steps[name])
    finally:
        bench.processes.stop_all()
        prod.teardown()


def _step(name: str, function, *args) -> None:
    """Run one step, saying how long it took."""
    began = time.monotonic()
    print(f"- {name} ...", end="", flush=True)
    function(*args)
    print(f" {time.monotonic() - began:.0f} s", flush=True)


def _exit_on_term(_signum, _frame) -> None:
    """On SIGTERM or SIGHUP, unwind through the finally blocks that stop every process."""
    raise SystemExit(143)


if __name__ == "__main__":
    raise SystemExit(main())
