"""docker-compose.yml runs the Procfile's lines with their settings, each service has a
healthcheck, and the grace periods outlast the processes' own; the image runs the Procfile's web
line from the dependencies requirements.lock pins, which covers pyproject.toml's exactly; an
installed Herald carries every file it serves."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    assert SERVICES["webhooks"]["command"] == with_defaults(procfile("webhooks"))
    worker = SERVICES["worker"]["command"]
    for setting in ("dramatiq_worker_timeout=20", "dramatiq_queue_prefetch=16"):
        assert setting in worker


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        if name != "migrate":  # a one-off job: the others wait for it to complete
            assert service["healthcheck"]["test"][0] == "CMD", name


def test_every_process_shares_the_metrics_folder_and_has_the_ops_token():
    for name in ("web", "stream", "worker", "webhooks"):
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


# --- the Docker image --------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = (line.strip() for line in text.splitlines())
    return [
        (keyword.upper(), arguments.strip())
        for keyword, _, arguments in (line.partition(" ") for line in lines)
        if keyword and not keyword.startswith("#")
    ]


def instructions(keyword: str) -> list[str]:
    """The arguments of every instruction of this keyword, in order."""
    return [arguments for found, arguments in dockerfile() if found == keyword]


def test_the_image_runs_the_procfile_web_line_not_the_development_server():
    [cmd] = instructions("CMD")
    assert json.loads(cmd) == ["sh", "-c", "exec " + procfile("web")]
    assert "herald serve" not in cmd and not instructions("ENTRYPOINT")
    assert "HERALD_DEMO" not in " ".join(instructions("ENV"))


def test_the_image_installs_the_lock_with_hashes_then_herald_without_dependencies():
    installs = [run for run in instructions("RUN") if "pip install" in run]
    assert len(installs) == 2
    lock, herald = (shlex.split(run.split("&&")[0]) for run in installs)
    assert {"--require-hashes", "-r", "requirements.lock"} <= set(lock)
    assert lock[lock.index("-r") + 1] == "requirements.lock"
    assert "--no-deps" in herald and herald[-1] == "."
    assert "COPY requirements.lock ./" in [f"COPY {copy}" for copy in instructions("COPY")]


def test_the_image_is_of_the_python_the_lock_is_for():
    [base] = instructions("FROM")
    assert base.startswith("python:3.11")
    assert "--python-version 3.11" in LOCK_COMMAND
    assert "--python-platform x86_64-manylinux" in LOCK_COMMAND


# --- requirements.lock --------------------------------------------------------------------------

LOCK_TEXT = (REPO / "requirements.lock").read_text()
LOCK_COMMAND = LOCK_TEXT.splitlines()[1].lstrip("# ").strip()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# The image's interpreter and platform: how markers of the dependencies are read.
TARGET = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux"}
TARGET |= {"platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"}


def locked() -> dict[str, tuple[str, list[str]]]:
    """Each package of the lock: its exact version and its hashes."""
    entries = re.sub(r"\\\n\s*", " ", LOCK_TEXT).splitlines()
    pins = {}
    for entry in (line for line in entries if line and not line.startswith(("#", " "))):
        name, version, *options = re.split(r"==|\s+", entry.strip())
        pins[canonicalize_name(name)] = (version, [o for o in options if o.startswith("--hash")])
    return pins


def wanted(requirement: Requirement, extra: str = "") -> bool:
    """True if the image installs this requirement (its marker, for this extra)."""
    return requirement.marker is None or requirement.marker.evaluate(TARGET | {"extra": extra})


def requirements_of(name: str, extras: set[str], version: str) -> list[Requirement]:
    """The requirements of the installed distribution with these extras, when the installed
    one is the locked version (another version may require other packages)."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return []
    if dist.version != version:
        return []
    found = [Requirement(line) for line in dist.requires or []]
    return [r for r in found if any(wanted(r, extra) for extra in extras | {""})]


def test_the_lock_pins_every_package_exactly_with_its_hashes():
    pins = locked()
    assert len(pins) > 20
    for name, (version, hashes) in pins.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), name
        assert hashes and all(h.startswith("--hash=sha256:") for h in hashes), name


def test_the_lock_covers_every_dependency_of_pyproject_within_its_floor():
    pins = locked()
    pending = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
        if (name, frozenset(requirement.extras)) not in seen:
            seen.add((name, frozenset(requirement.extras)))
            pending += requirements_of(name, set(requirement.extras), version)
    assert {"aiohttp", "cryptography", "werkzeug", "flask", "jinja2"} <= {n for n, _ in seen}


def test_the_readme_regenerates_the_lock_with_the_command_it_was_made_with():
    assert LOCK_COMMAND.startswith("uv pip compile pyproject.toml ")
    assert "--generate-hashes" in LOCK_COMMAND
    assert LOCK_COMMAND in (REPO / "README.md").read_text()


# The newest fix of each package's published advisories, and the last version before it.
ADVISORY_FIXES = [
    ("aiohttp", "3.14.3", "3.14.2"),  # CVE-2026-69244
    ("cryptography", "50.0.0", "49.0.0"),  # CVE-2026-69247
    ("werkzeug", "3.1.6", "3.1.5"),  # CVE-2026-27199
    ("flask", "3.1.3", "3.1.2"),  # CVE-2026-27205
    ("jinja2", "3.1.6", "3.1.5"),  # CVE-2025-27516
    ("gunicorn", "23.0.0", "22.0.0"),  # CVE-2024-6827
    ("python-json-logger", "3.3.0", "3.2.1"),  # CVE-2025-27607
]


def test_the_floors_are_above_the_published_advisories():
    floors = {
        canonicalize_name(r.name): r.specifier
        for r in map(Requirement, PYPROJECT["project"]["dependencies"])
    }
    for name, fixed, vulnerable in ADVISORY_FIXES:
        assert floors[name].contains(fixed), name
        assert not floors[name].contains(vulnerable), f"{name} admits {vulnerable}"


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
