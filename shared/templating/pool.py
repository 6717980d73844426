"""The render pool: each web and worker process compiles and renders tenants' templates in a
few child processes of its own (`shared.templating.child`), never in itself.

A job goes to an idle child over a pipe and waits for its answer at most the hard time
limit; past it the child is killed (one C call can't be interrupted in-process, and it would
hold the GIL of every request meanwhile) and replaced in the background, and the job fails
at once with the limit named. A child that runs out of its memory limit (RLIMIT_AS) says so
or dies; either way it is replaced. The sandbox's own bounds stay the first line: they give
the precise error, the pool is the last.

Built on a socket of our own rather than a pool library: a job costs ~30 µs of the caller's
CPU this way against ~170 µs through pebble's ProcessPool (BENCHMARKS.md), and one blocking
call waits for and reads the answer (`frames`: each blocking call of a busy process can wait a
switch interval for the GIL, holding the child meanwhile).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.infra.errors import HeraldError
from shared.templating import rules
from shared.templating.frames import FrameReader, send_frame, wait_slices

_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds `shared/`
_START_WAIT = 30.0  # seconds a job waits for an idle child before it is an error of ours
_SLICE = 0.1  # seconds of one wait for an answer (a pending exception arrives between waits;
# the limit is checked between them, so a child is killed up to a slice past it)
_SPARE = 0.5  # seconds past the sandbox's own deadline before the child is killed


@dataclass(frozen=True)
class Limits:
    """How many render processes a process keeps, and what each may use."""

    processes: int = 2
    memory_mb: int = 512
    seconds: float = 2.0


class _Child:
    """One render process and the parent's end of its pipe."""

    def __init__(self, memory: int) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.templating.child", str(theirs.fileno()), str(memory)],
            env=_child_environment(),
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        theirs.close()
        wait_slices(ours, _SLICE)
        send_frame(ours, _rules_payload())  # its first frame: how each channel's fields render
        self.socket = ours
        self.answers = FrameReader(ours)

    def kill(self) -> None:
        """Stop the process at once and reap it."""
        self.socket.close()
        self.process.kill()
        self.process.wait()


@functools.cache
def _rules_payload() -> bytes:
    """The channels' field rules, pickled once: a render process is given them rather than
    importing `shared.channels` and the database layer with it (`shared.templating.rules`)."""
    return pickle.dumps(rules.from_channels(), pickle.HIGHEST_PROTOCOL)


def _child_environment() -> dict[str, str]:
    """Only what Python needs to start and import Herald: no secret, no URL of a service."""
    paths = [_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@dataclass(eq=False)
class _Job:
    """One job, pickled, and the child it went to (set when a finishing job hands it on)."""

    payload: bytes
    assigned: threading.Event = field(default_factory=threading.Event)
    child: _Child | None = None
    sent: float = 0.0  # when it was written to the child (its time limit counts from then)


class RenderPool:
    """Child processes that run templating jobs under a memory and a wall-clock limit.

    A job finding no idle child waits in line; the job that frees a child writes the next
    one in line to it at once, so the child starts while its caller is still waking up (a
    woken thread of a busy process can wait a switch interval for the GIL). The idle child
    used last goes first: its CPU caches and compiled templates are the warm ones."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._idle: list[_Child] = []
        self._waiting: deque[_Job] = deque()
        self._children: set[_Child] = set()
        self._lock = threading.Lock()
        # Children are started by one thread that lives as long as the process: Linux's
        # parent-death signal follows the thread that started a child, not the process.
        self._spawns: queue.Queue[None] = queue.Queue()
        threading.Thread(target=self._spawner, name="render-pool", daemon=True).start()
        for _ in range(limits.processes):
            self._spawns.put(None)

    def run(
        self,
        operation: str,
        *args: Any,
        seconds: float | None = None,
        failure: str = "template/renderFailed",
        doing: str = "rendering",
    ) -> Any:
        """The value of `operation(*args)` in a child, killed past `seconds` (the pool's
        limit by default); a HeraldError (`failure`, naming the limit and what the child was
        `doing`, for a child killed or out of memory)."""
        seconds = self.limits.seconds if seconds is None else seconds
        job = _Job(pickle.dumps((operation, args), pickle.HIGHEST_PROTOCOL))
        child = self._start(job)
        try:
            reply = self._answer(child, job.sent + seconds + _SPARE)
        except TimeoutError:
            limit = f"took longer than its time limit of {seconds:g} s"
            raise self._stopped(child, failure, f"{doing} {limit}") from None
        except (EOFError, OSError, ValueError):
            limit = f"stopped (memory limit of {self.limits.memory_mb} MB, or a crash)"
            raise self._stopped(child, failure, f"{doing} {limit}") from None
        except BaseException:  # the caller was stopped mid-job (a worker's time limit)
            self._stopped(child, failure, "was interrupted")
            raise
        if reply.get("memory"):
            limit = f"went past its memory limit of {self.limits.memory_mb} MB"
            raise self._stopped(child, failure, f"{doing} {limit}")
        self._release(child)
        if "error" in reply:
            raise HeraldError(*reply["error"])
        return reply["value"]

    def _start(self, job: _Job) -> _Child:
        """Write the job to an idle child, or wait in line until a finishing job has."""
        with self._lock:
            child = self._idle.pop() if self._idle else None
            if child is None:
                self._waiting.append(job)
        if child is not None:
            self._send(child, job)
            return child
        try:
            if not job.assigned.wait(_START_WAIT) and self._withdrawn(job):
                raise RuntimeError("no render process started in time")
        except BaseException:  # the caller was stopped while waiting in line
            if not self._withdrawn(job):
                job.assigned.wait()
                self._stopped(job.child, "template/renderFailed", "was interrupted")
            raise
        job.assigned.wait()  # set by now, unless withdrawing raced a hand-over
        return job.child

    def _withdrawn(self, job: _Job) -> bool:
        """Take the job out of the line; False when a child already has it."""
        with self._lock:
            if job in self._waiting:
                self._waiting.remove(job)
                return True
        return False

    @staticmethod
    def _send(child: _Child, job: _Job) -> None:
        """Write the job to the child (a dead child: its caller reads the end of the pipe)."""
        job.child, job.sent = child, time.monotonic()
        with contextlib.suppress(OSError):
            send_frame(child.socket, job.payload)

    def _release(self, child: _Child) -> None:
        """The child is free: give it the next job in line, or make it idle."""
        with self._lock:
            if child not in self._children:  # the pool was closed meanwhile
                return
            job = self._waiting.popleft() if self._waiting else None
            if job is None:
                self._idle.append(child)
                return
        self._send(child, job)
        job.assigned.set()

    @staticmethod
    def _answer(child: _Child, deadline: float) -> dict[str, Any]:
        """The child's answer, waited for up to `deadline`, in short waits so that an
        exception meant for this thread (a time limit) reaches it meanwhile."""
        while True:
            try:
                return json.loads(child.answers.read())
            except BlockingIOError:  # a slice went by without the answer
                if time.monotonic() >= deadline:
                    raise TimeoutError from None

    def close(self) -> None:
        """Stop every child (at exit, and in tests)."""
        with self._lock:
            children, self._children, self._idle = list(self._children), set(), []
        for child in children:
            child.kill()

    def _stopped(self, child: _Child, failure: str, what: str) -> HeraldError:
        """Kill the child, start its replacement in the background, and name the limit."""
        with self._lock:
            self._children.discard(child)
            if child in self._idle:
                self._idle.remove(child)
        child.kill()
        self._spawns.put(None)
        return HeraldError(failure, f"The template's {what}; it was stopped.")

    def _spawner(self) -> None:
        """Start a child for each request, and make it available."""
        while True:
            self._spawns.get()
            child = _Child(self.limits.memory_mb << 20)
            with self._lock:
                self._children.add(child)
            self._release(child)


_pools: dict[tuple[int, Limits], RenderPool] = {}
_pools_lock = threading.Lock()


def render_pool(limits: Limits) -> RenderPool:
    """This process's pool for these limits, started on first use (after any fork)."""
    key = (os.getpid(), limits)
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(key) or _pools.setdefault(key, RenderPool(limits))
    return pool


@atexit.register
def _close_pools() -> None:
    """Children end with their parent (PR_SET_PDEATHSIG); at a clean exit, say so first."""
    for (pid, _), pool in list(_pools.items()):
        if pid == os.getpid():
            pool.close()
