"""How Herald holds up under a test: the test process's peak memory, and the app still
answering its health check quickly."""

from __future__ import annotations

import resource
import time


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def assert_still_answering(herald) -> None:
    """The app answers /healthz with 200 within a second."""
    started = time.monotonic()
    response = herald.app.test_client().get("/healthz")
    assert response.status_code == 200
    assert time.monotonic() - started < 1.0
