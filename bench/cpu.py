"""CPU time spent by process trees, and by the whole machine, over a measured interval."""

from __future__ import annotations

import os
import time

from bench.memory import PROC, descendants

TICK = os.sysconf("SC_CLK_TCK")


def process_ticks(pid: int) -> int:
    """User plus system clock ticks of one process so far, 0 when it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every core since boot."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds of named process trees (`{"worker": pid}`) and of the machine while open."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.seconds: dict[str, float] = {}
        self.machine_cores = 0.0  # cores busy on average, whatever ran
        self.elapsed = 0.0

    def _read(self) -> dict[str, dict[int, int]]:
        return {
            role: {pid: process_ticks(pid) for pid in descendants(root)}
            for role, root in self.roots.items()
        }

    def __enter__(self) -> CpuMeter:
        self._start = self._read()
        self._machine = machine_ticks()
        self._began = time.monotonic()
        return self

    def __exit__(self, *_exc) -> None:
        self.elapsed = time.monotonic() - self._began
        busy, total = machine_ticks()
        cores = os.cpu_count() or 1
        self.machine_cores = cores * (busy - self._machine[0]) / max(total - self._machine[1], 1)
        for role, ticks in self._read().items():
            before = self._start[role]
            self.seconds[role] = sum(t - before.get(pid, 0) for pid, t in ticks.items()) / TICK

    def cores(self, role: str) -> float:
        """The cores a role kept busy on average."""
        return self.seconds[role] / self.elapsed if self.elapsed else float("nan")
