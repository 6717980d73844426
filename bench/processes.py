"""The processes a benchmark starts: each in its own process group, all stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Inherited settings that would change what Herald runs with; the bench sets its own.
FOREIGN = ("HERALD_", "AWS_", "DATABASE_URL", "REDIS_URL", "PORT", "WEB_CONCURRENCY", "dramatiq_")


def clean_env(**values: str) -> dict[str, str]:
    """This environment without Herald's settings, the venv first on PATH, this checkout first
    on the import path, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(REPO)  # this checkout's code, whatever the venv has installed
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile(name: str) -> str:
    """The command of one line of the Procfile, as written there."""
    for line in (REPO / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(f"the Procfile has no {name!r} line")


class Process:
    """One started command (run by bash, so `${PORT:-8000}` expands), its output in a log."""

    def __init__(
        self, name: str, command: str, env: dict[str, str], cwd: Path, log_dir: Path
    ) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as log:
            self.popen = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The process id (bash exec'd the command, so it is the command's own)."""
        return self.popen.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.popen.poll() is None

    def tail(self, lines: int = 15) -> str:
        """The end of its log, to explain a failure."""
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to its process group; after `grace` seconds SIGKILL to what is left of it."""
        self._signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(grace)
        self._signal(signal.SIGKILL)  # also children that outlived their parent
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5.0)

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)


class Processes:
    """Every process the benchmark started, so that all of them are stopped at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Process] = []
        self.started = 0

    def start(self, name: str, command: str, env: dict[str, str], cwd: Path = REPO) -> Process:
        """Start a command in its own process group."""
        self.started += 1
        process = Process(f"{self.started:02d}-{name}", command, env, cwd, self.log_dir)
        self.running.append(process)
        return process

    def stop(self, process: Process) -> None:
        """Stop one process and forget it."""
        process.stop()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        """Stop every process still running, newest first."""
        while self.running:
            self.stop(self.running[-1])


def run(command: list[str], env: dict[str, str], cwd: Path = REPO, timeout: float = 120) -> str:
    """Run a command to its end; its standard output, or an error with what it printed."""
    done = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def wait_http(url: str, process: Process, timeout: float = 60.0) -> None:
    """Wait until `url` answers 200, or fail with the end of the process's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"{process.name} did not answer {url} within {timeout:.0f} s:\n{process.tail()}"
    )
