"""Herald's embedded default: `herald serve` in a working directory of its own (SQLite, the
in-process broker and worker, the outbox providers)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.client import create_notification
from bench.payloads import EMAIL_FROM
from bench.processes import Process, Processes, clean_env, free_port, run, wait_http


class Embedded:
    """One `herald serve` with no configuration; `setup` starts it, `teardown` removes its files."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.folder = tempfile.TemporaryDirectory(prefix="herald-bench-embedded-")
        self.workdir = Path(self.folder.name)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.project: dict[str, str] = {}
        self.web: Process | None = None

    def setup(self) -> None:
        """A project in a fresh SQLite file, the server, the notification."""
        env = clean_env()
        self.project = json.loads(
            run(
                ["herald", "project", "create", "bench", "--email-from", EMAIL_FROM],
                env,
                cwd=self.workdir,
            )
        )
        self.web = self.processes.start(
            "embedded", f"herald serve --port {self.port}", env, cwd=self.workdir
        )
        wait_http(f"{self.base_url}/healthz", self.web)
        create_notification(self.base_url, self.project["apiKey"])

    def teardown(self) -> None:
        """Remove the working directory (the server is stopped by then)."""
        self.folder.cleanup()
