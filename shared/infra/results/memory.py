"""The embedded mode's results: in the process, a stored result waking its waiter at once."""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.results import ResultTimeout
from dramatiq.results.backend import Missing
from dramatiq.results.backends.stub import StubBackend

from shared.infra.results.base import ResultStore


class MemoryResults(StubBackend, ResultStore):
    """Results in a dict of this process, under a condition variable (no polling)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = {}
        self._stored = threading.Condition()

    def _store(self, message_key, result, ttl) -> None:
        with self._stored:
            super()._store(message_key, result, ttl)
            self._stored.notify_all()

    def get_result(self, message, *, block=False, timeout=None):
        if not block:
            return super().get_result(message)
        deadline = time.monotonic() + (timeout or 10_000) / 1000
        key = self.build_message_key(message)
        with self._stored:
            while True:
                data = self._get(key)
                if data is not Missing:
                    return self.unwrap_result(data)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ResultTimeout(message)
                self._stored.wait(remaining)

    def wait(self, message: dramatiq.Message, remaining_ms: int) -> Any:
        """The job's result, waiting up to `remaining_ms` (to the millisecond)."""
        return self.get_result(message, block=True, timeout=max(remaining_ms, 1))
