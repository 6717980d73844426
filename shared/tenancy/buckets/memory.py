"""The embedded mode's buckets: in the memory of its one web process."""

from __future__ import annotations

import threading
import time

from shared.tenancy.buckets.base import Buckets, Budget, Decision, decide


class MemoryBuckets(Buckets):
    """Buckets of one process (the embedded mode has one web process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, budget: Budget) -> Decision:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._state.get(key, (float(budget.burst), now))
            tokens = min(budget.burst, tokens + max(0.0, now - at) * budget.rate)
            allowed = tokens >= 1
            tokens -= 1 if allowed else 0
            self._state[key] = (tokens, now)
        return decide(budget, allowed, tokens)
