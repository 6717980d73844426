"""Peak resident memory (RSS) of process trees, read from /proc while a load runs."""

from __future__ import annotations

import threading
from pathlib import Path

PROC = Path("/proc")


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def status_kib(pid: int, field: str, table: str = "status") -> int:
    """A field of /proc/<pid>/status (`VmRSS`, `VmHWM`) or of another table such as
    `smaps_rollup` (`Pss`), in KiB; 0 when the process is gone."""
    try:
        for line in (PROC / str(pid) / table).read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the trees of named roles (`{"web": pid}`) every `interval` seconds.

    Per role it keeps the largest VmRSS seen of one process, the largest VmHWM (the kernel's
    high-water mark of one process over its life, read at the end), and the largest sum of the
    tree's PSS (proportional set size: a page shared after fork counts once in the sum).
    """

    def __init__(self, roots: dict[str, int], interval: float = 0.25) -> None:
        self.roots = roots
        self.interval = interval
        self.process_peak = dict.fromkeys(roots, 0)
        self.sum_peak = dict.fromkeys(roots, 0)
        self.hwm = dict.fromkeys(roots, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        for role, root in self.roots.items():
            self.hwm[role] = max(status_kib(pid, "VmHWM") for pid in descendants(root))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        """Read every process of every role once."""
        for role, root in self.roots.items():
            pids = descendants(root)
            self.process_peak[role] = max(
                self.process_peak[role], *(status_kib(pid, "VmRSS") for pid in pids)
            )
            self.sum_peak[role] = max(
                self.sum_peak[role], sum(status_kib(pid, "Pss", "smaps_rollup") for pid in pids)
            )

    def megabytes(self, role: str) -> tuple[float, float]:
        """(largest process's VmRSS, the tree's summed PSS) peaks of a role, in MB (10^6 B)."""
        return self.process_peak[role] * 1024 / 1e6, self.sum_peak[role] * 1024 / 1e6

    def hwm_mb(self, role: str) -> float:
        """The largest VmHWM of a role's processes, in MB."""
        return self.hwm[role] * 1024 / 1e6
