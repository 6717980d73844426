"""docker-compose.yml runs the Procfile's lines with their settings, each service has a
healthcheck, and the grace periods outlast the processes' own; an installed Herald carries every
file it serves."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml

from api.http import gunicorn_conf
from bench.processes import procfile

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def with_defaults(command: str) -> list[str]:
    """A Procfile line as run with none of its variables set: each `${NAME:-default}` is its
    default."""
    return shlex.split(re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command))


def seconds(duration: str) -> int:
    """A compose duration such as `40s`."""
    return int(duration.rstrip("s"))


def test_compose_runs_the_procfile_lines():
    assert SERVICES["web"]["command"] == with_defaults(procfile("web"))
    assert SERVICES["worker"]["command"] == with_defaults(procfile("worker"))
    assert SERVICES["stream"]["command"] == with_defaults(procfile("stream"))
    worker = SERVICES["worker"]["command"]
    for setting in ("dramatiq_worker_timeout=20", "dramatiq_queue_prefetch=16"):
        assert setting in worker


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        if name != "migrate":  # a one-off job: the others wait for it to complete
            assert service["healthcheck"]["test"][0] == "CMD", name


def test_every_process_shares_the_metrics_folder_and_has_the_ops_token():
    for name in ("web", "stream", "worker"):
        service = SERVICES[name]
        folder = next(arg for arg in service["command"] if arg.startswith("PROMETHEUS_MULTIPROC"))
        assert f"metrics:{folder.split('=', 1)[1]}" in service["volumes"]
        assert "HERALD_OPS_TOKEN" in service["environment"]
    assert "metrics" in COMPOSE["volumes"]


def test_the_stream_is_checked_and_published_on_its_own_port():
    stream = SERVICES["stream"]
    bind = stream["command"][stream["command"].index("--bind") + 1]
    port = bind.rsplit(":", 1)[1]
    assert f"http://127.0.0.1:{port}/healthz" in stream["healthcheck"]["test"][-1]
    assert f"{port}:{port}" in stream["ports"]


def test_grace_periods_outlast_the_processes_own():
    assert seconds(SERVICES["web"]["stop_grace_period"]) > gunicorn_conf.graceful_timeout
    stream = SERVICES["stream"]["command"]
    graceful = int(stream[stream.index("--graceful-timeout") + 1])
    assert seconds(SERVICES["stream"]["stop_grace_period"]) > graceful
    worker = SERVICES["worker"]["command"]
    shutdown_ms = int(worker[worker.index("--worker-shutdown-timeout") + 1])
    # dramatiq waits up to the timeout for its jobs, then as long again for its consumers
    assert seconds(SERVICES["worker"]["stop_grace_period"]) > 2 * shutdown_ms / 1000


def test_package_data_carries_every_file_the_api_serves():
    # setuptools takes the package-data patterns as globs relative to the package
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["api"]
    api = REPO / "api"
    carried = {path for pattern in patterns for path in api.glob(pattern) if path.is_file()}
    served = {
        path
        for folder in ("static", "templates")
        for path in (api / folder).rglob("*")
        if path.is_file()
    }
    assert served - carried == set()
    assert api / "static" / "widget" / "main.js" in carried
