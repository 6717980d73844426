"""Where the time goes under load: py-spy samples of running processes, reduced to top costs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.processes import REPO, VENV_BIN

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
OWN = ("api/", "shared/", "worker/")


def py_spy() -> str | None:
    """The py-spy command, or None when it is not installed."""
    found = VENV_BIN / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def record(pids: dict[str, list[int]], seconds: float, folder: Path) -> dict[str, list[Path]]:
    """Sample every thread of these processes (by role) for `seconds`, all at once."""
    command = py_spy()
    if command is None:
        raise RuntimeError("py-spy is not installed: pip install py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [
        (role, folder / f"{role}-{pid}.txt", pid)
        for role, role_pids in pids.items()
        for pid in role_pids
    ]
    running = [(role, out, _sample(command, pid, seconds, out)) for role, out, pid in jobs]
    files: dict[str, list[Path]] = {role: [] for role in pids}
    for role, out, job in running:
        try:
            job.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            job.kill()
            job.wait()
        if out.exists():
            files[role].append(out)
        else:
            print(
                f"py-spy gave nothing for {out.name}: {job.stderr.read().decode()[-300:]}",
                file=sys.stderr,
            )
    return files


def _sample(command: str, pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """Start py-spy sampling one process (every thread, at 100 Hz) into a raw file."""
    options = ["--duration", str(int(seconds)), "--rate", "100", "--gil", "--format", "raw"]
    return subprocess.Popen(
        [command, "record", "--pid", str(pid), *options, "--nonblocking", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def frame_name(frame: str) -> str:
    """`function (file)` with the path made relative to the repository or site-packages."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for root in (f"{REPO}/", "site-packages/", "lib/python3.11/"):
        if root in path:
            path = path.split(root, 1)[1]
    return f"{path}:{match['function']}"


def costs(files: list[Path]) -> tuple[int, Counter, Counter]:
    """(samples, self samples by function, inclusive samples by function) of raw py-spy files."""
    own, inclusive = Counter(), Counter()
    total = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [frame_name(f) for f in stack.split(";")[1:]]  # the first is the thread
            if not frames:
                continue
            total += int(count)
            own[frames[-1]] += int(count)
            for name in set(frames):
                inclusive[name] += int(count)
    return total, own, inclusive


def top_table(role: str, files: list[Path], limit: int = 12) -> str:
    """Markdown: the top self costs, and the top inclusive costs in Herald's own code."""
    total, own, inclusive = costs(files)
    if not total:
        return f"{role}: no samples.\n"
    lines = [
        f"**{role}** ({total} samples holding the GIL at 100 Hz)",
        "",
        "| self % | function | | incl. % | Herald function |",
        "|---:|---|---|---:|---|",
    ]
    herald = [(name, n) for name, n in inclusive.most_common() if name.startswith(OWN)]
    packages = Counter()
    for name, n in own.items():
        packages[_package(name)] += n
    by_package = ", ".join(f"{name} {_pct(n, total)}" for name, n in packages.most_common(8))
    for i in range(limit):
        left = own.most_common(limit)[i] if i < len(own) else ("", 0)
        right = herald[i] if i < len(herald) else ("", 0)
        lines.append(
            f"| {_pct(left[1], total)} | `{left[0]}` | | {_pct(right[1], total)} | `{right[0]}` |"
        )
    return "\n".join([*lines, "", f"Self % by package: {by_package}.", ""])


def _package(name: str) -> str:
    """The top-level package (or stdlib module) of a `path:function` name."""
    path = name.split(":", 1)[0]
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if "/" in path or path.endswith(".py") else path


def _pct(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}" if count else ""
