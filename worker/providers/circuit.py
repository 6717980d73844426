"""A circuit breaker per provider (SPEC §8): 5 provider-level failures in a row within 60 s open
it for 30 s, then one probe may go (half-open). This is the embedded mode's, in memory; the
production one (Redis, shared across processes) implements the same `Breaker` interface."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAILURES = 5
WINDOW = 60.0
OPEN_FOR = 30.0


class Breaker:
    """Whether a provider may be tried, and what happened when it was."""

    def allow(self, key: str) -> bool:
        raise NotImplementedError

    def failed(self, key: str) -> None:
        raise NotImplementedError

    def succeeded(self, key: str) -> None:
        raise NotImplementedError

    def state(self, key: str) -> str:
        raise NotImplementedError


@dataclass
class _Circuit:
    failures: list[float] = field(default_factory=list)
    opened: float | None = None
    probing: bool = False


class MemoryBreaker(Breaker):
    """One process's circuits; `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._circuits: dict[str, _Circuit] = {}

    def allow(self, key: str) -> bool:
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is None or circuit.opened is None:
                return True
            if self.clock() - circuit.opened < OPEN_FOR or circuit.probing:
                return False
            circuit.probing = True  # half-open: this caller is the one probe
            return True

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            circuit = self._circuits.setdefault(key, _Circuit())
            circuit.probing = False
            circuit.failures = [at for at in circuit.failures if now - at < WINDOW] + [now]
            if circuit.opened is not None or len(circuit.failures) >= FAILURES:
                circuit.opened = now

    def succeeded(self, key: str) -> None:
        with self._lock:
            if key in self._circuits:  # only the first success after failures writes
                del self._circuits[key]

    def state(self, key: str) -> str:
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is None or circuit.opened is None:
                return "closed"
            return "open" if self.clock() - circuit.opened < OPEN_FOR else "halfOpen"
