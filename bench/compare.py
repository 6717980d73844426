"""Saved runs and the regression guard: a run's figures as JSON, and each figure of this run
against a saved reference run, as a ratio that reads better or worse."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.processes import REPO
from bench.report import Row, machine, number

RESULTS = REPO / "bench" / "results"  # every run's folder, and runs saved by name (not in git)
REFERENCES = REPO / "bench" / "reference"  # reference runs kept in git
HIGHER_IS_BETTER = {"msg/s", "users/s", "ops/s", "%"}  # every other unit: lower is better
NOISE = 0.10  # a ratio within 10 % of 1 reads as the same on a shared machine


def record(rows: list[Row], code: str, command: str, plan: str, load_before: float) -> dict:
    """A run as JSON: its figures, the commit, the command, the machine and its load (loaded
    when other work kept half its cores busy before the run began)."""
    cores = os.cpu_count() or 1
    loaded = load_before >= cores / 2
    return {
        "code": code,
        "command": command,
        "plan": plan,
        "run": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_average_at_start": load_before,
        "loaded": loaded,
        "note": (
            f"the machine was loaded: load average {load_before:.1f} on {cores} cores before "
            "the run began; the figures are indicative"
            if loaded
            else ""
        ),
        "rows": [{**asdict(row), "p50": _finite(row.p50), "p99": _finite(row.p99)} for row in rows],
    }


def _finite(value: float | None) -> float | None:
    """A figure JSON can hold: None for a NaN."""
    return None if value is None or math.isnan(value) else value


def save(run: dict, name: str) -> Path:
    """Write a run under bench/results/NAME.json, or to NAME itself when it is a path (with a
    `/` or ending in .json: `bench/reference/main.json`)."""
    path = Path(name) if "/" in name or name.endswith(".json") else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n")
    return path


def resolve(reference: str) -> Path:
    """A reference run: a path, a name saved under bench/results, a run's folder there, or a
    name under bench/reference."""
    for path in (
        Path(reference),
        RESULTS / f"{reference}.json",
        RESULTS / reference / "results.json",
        REFERENCES / f"{reference}.json",
    ):
        if path.is_file():
            return path
    known = sorted(p.stem for p in REFERENCES.glob("*.json"))
    raise SystemExit(
        f"no reference run {reference!r}: give a results JSON, a name saved with --save, or one "
        f"of bench/reference: {', '.join(known) or 'none'}"
    )


def comparison(rows: list[Row], plan: str, reference: dict, source: str) -> str:
    """Each figure of this run next to the reference's, as now / reference of the p50 and p99,
    read as better, worse or the same (within NOISE) by the figure's direction."""
    lines = [
        f"Against {source} (code {reference['code']}, {reference['plan']} run of "
        f"{reference['run']}{'; loaded' if reference.get('loaded') else ''}):",
        "",
        "| figure | mode | unit | better | reference p50 | p50 | p50 ratio | p99 ratio | reads |",
        "|---|---|---|---|---:|---:|---:|---:|---|",
    ]
    if reference["plan"] != plan:
        lines.insert(1, f"\nWarning: a {plan} run against a {reference['plan']} one.")
    stored = {(row["figure"], row["mode"]): row for row in reference["rows"]}
    for row in rows:
        old = stored.pop((row.figure, row.mode), None)
        lines.append(_line(row, old))
    lines += [
        f"| {old['figure']} | {old['mode']} | {old['unit']} | | {_stored(old)} | | | | "
        "only in the reference |"
        for old in stored.values()
    ]
    return "\n".join(lines)


def _line(row: Row, old: dict | None) -> str:
    """One figure's line of the comparison."""
    higher = row.unit in HIGHER_IS_BETTER
    head = f"| {row.figure} | {row.mode} | {row.unit} | {'higher' if higher else 'lower'} |"
    if old is None:
        return f"{head} | {number(row.p50, row.unit)} | | | new |"
    p50, p99 = _ratio(row.p50, old["p50"]), _ratio(row.p99, old["p99"])
    if math.isnan(p50):
        reads = "-"
    elif abs(p50 - 1) <= NOISE:
        reads = "same"
    else:
        reads = "better" if (p50 > 1) == higher else "**worse**"
    return (
        f"{head} {_stored(old)} | "
        f"{number(row.p50, row.unit)} | {_times(p50)} | {_times(p99)} | {reads} |"
    )


def _stored(old: dict) -> str:
    """A reference run's p50 for reading."""
    return number(math.nan if old["p50"] is None else old["p50"], old["unit"])


def _ratio(now: float | None, then: float | None) -> float:
    """now / then, NaN when either is missing or then is 0."""
    if now is None or then is None or math.isnan(now) or then == 0:
        return math.nan
    return now / then


def _times(ratio: float) -> str:
    """A ratio for reading."""
    return "-" if math.isnan(ratio) else f"×{ratio:.2f}"
