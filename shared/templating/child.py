"""A render process: compiles and renders tenants' templates for the process that started it.

It starts with an environment of its own (no secret, no database URL), holds no connection,
and limits its own address space (RLIMIT_AS) before it reads a job, so a template that
escapes the sandbox's bounds runs out of memory here, not in the web or worker process. Jobs
come in pickled from the parent (trusted); answers go back as JSON, so the parent never
unpickles anything a template could have shaped. Run as `python -m shared.templating.child FD
MEMORY_BYTES`. It imports Jinja, the sandbox and the HTML-to-text parser, not the database
layer or the validators: the channels' field rules come from the parent (`rules`).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pickle
import resource
import signal
import socket
import sys
from typing import Any

from shared.infra.errors import HeraldError
from shared.templating import rules
from shared.templating.frames import FrameReader, send_frame

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent goes, whatever it is doing then."""
    with contextlib.suppress(OSError, AttributeError):  # elsewhere the closed pipe ends it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _limit_memory(limit: int) -> None:
    """Cap this process's address space, keeping what it already uses below the cap."""
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _answer(operation: str, args: tuple[Any, ...], memory: int) -> bytes:
    """Run one job and encode its answer: the value, or the error's code and sentence."""
    from shared.templating.jobs import OPERATIONS

    try:
        value = OPERATIONS[operation](*args)
        return json.dumps({"value": value}, default=str).encode()
    except HeraldError as exc:
        return json.dumps({"error": [exc.code, exc.message]}).encode()
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a template's failure is the message's, never ours
        return json.dumps(
            {"error": ["template/renderFailed", f"{type(exc).__name__}: {exc}"]}
        ).encode()


def serve(connection: socket.socket, memory: int) -> None:
    """Answer jobs until the parent closes the pipe; past the memory limit, say so and exit."""
    jobs = FrameReader(connection)
    try:  # the first frame: the channels' field rules (this process never imports them)
        rules.use(pickle.loads(jobs.read()))
    except (EOFError, OSError):
        return
    while True:
        try:
            operation, args = pickle.loads(jobs.read())
        except (EOFError, OSError):
            return
        try:
            reply = _answer(operation, args, memory)
        except MemoryError:
            send_frame(connection, json.dumps({"memory": True}).encode())
            os._exit(3)  # a process that ran out of memory is replaced, not reused
        send_frame(connection, reply)


def main() -> None:
    """Entry point: the pipe's descriptor and the memory limit come on the command line."""
    fd, memory = int(sys.argv[1]), int(sys.argv[2])
    _die_with_parent()
    import shared.templating.jobs  # noqa: F401 - imported before the limit, once

    _limit_memory(memory)
    serve(socket.socket(fileno=fd), memory)


if __name__ == "__main__":
    main()
