"""Herald on real sockets for the stream tests: gunicorn's `web` and the `stream` process
(aiohttp) as separate processes over one PostgreSQL database and Redis namespace."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(args: list[str], env: dict[str, str], url: str) -> subprocess.Popen:
    """Start a server process and wait until its /healthz answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("HERALD_TEST_SERVER_LOGS") else subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args[-1]} did not start")


@dataclass
class Live:
    """A Herald on real sockets: where to call the API and where to open streams."""

    herald: object
    web: str
    stream: str


def production_processes(herald, heartbeat: float) -> tuple[list[subprocess.Popen], str, str]:
    settings = herald.settings
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "HERALD_REDIS_NAMESPACE": settings.redis_namespace,
        "AWS_ENDPOINT_URL": settings.aws_endpoint_url,
        "HERALD_STREAM_HEARTBEAT": str(heartbeat),
    }
    web, stream = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    bind = lambda url: ["--bind", urlsplit(url).netloc]  # noqa: E731
    processes = [
        start_process(
            ["-k", "gthread", "--threads", "8", *bind(web), "api:create_app()"], env, web
        ),
        start_process(
            ["-k", "aiohttp.GunicornWebWorker", *bind(stream), "api.stream:create_stream_app()"],
            env,
            stream,
        ),
    ]
    return processes, web, stream
