"""The table of figures: printed, and written into BENCHMARKS.md with the command and machine."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.processes import REPO

PROD = "production"  # the mode column of the production figures

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass
class Row:
    """One figure: its median and p99 over repeated runs, and its target when it has one."""

    figure: str
    mode: str
    p50: float
    p99: float
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""


def number(value: float, unit: str) -> str:
    """A figure rounded for reading."""
    if value is None or math.isnan(value):
        return "-"
    if unit in ("ratio",):
        return f"{value:.2f}"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| figure | mode | p50 | p99 | unit | target | met | note |",
        "|---|---|---:|---:|---|---|---|---|",
    ]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**NO**")
        lines.append(
            f"| {row.figure} | {row.mode} | {number(row.p50, row.unit)} | "
            f"{number(row.p99, row.unit)} | {row.unit} | {row.target} | {met} | "
            f"{row.note} |"
        )
    return "\n".join(lines)


def verdict(rows: list[Row]) -> str:
    """One line per target: met or missed."""
    judged = [row for row in rows if row.met is not None]
    if not judged:
        return "No target was measured in this run."
    return "\n".join(
        f"- {'met' if row.met else 'MISSED'}: {row.figure} ({row.mode}): "
        f"p50 {number(row.p50, row.unit)}, p99 {number(row.p99, row.unit)} "
        f"{row.unit}; target {row.target}"
        for row in judged
    )


def machine() -> str:
    """Cores, CPU and Python of this machine."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at the end {load}"
    )


def revision() -> str:
    """The commit the run measured, marked when the work tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            text=True,
            capture_output=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            text=True,
            capture_output=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} with uncommitted changes" if dirty.strip() else commit


def document(rows: list[Row], command: str, sections: list[str], code: str) -> str:
    """The generated part of BENCHMARKS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n\n".join(
        [
            BEGIN,
            f"Command: `{command}`  \nMachine: {machine()}  \nCode: {code}  \nRun: {stamp}",
            table(rows),
            "Targets:\n\n" + verdict(rows),
            *sections,
            END,
        ]
    )


def write(path: Path, generated: str) -> None:
    """Replace the generated part of `path` (between the markers), keeping the rest."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = f"{text.rstrip()}\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(head + generated + tail)


def command_line() -> str:
    """How this run was started."""
    return " ".join(["python -m bench", *sys.argv[1:]])
