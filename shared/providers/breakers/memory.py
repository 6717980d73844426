"""The embedded mode's breaker: in the memory of its one process (the web app and its
in-process worker share it, so `/ops` reads the circuits the sends use)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.providers.breakers.base import (
    FAILURES,
    PROBE_FOR,
    WINDOW,
    Breaker,
    Tally,
    state_of,
)


@dataclass
class _Circuit:
    failures: list[float] = field(default_factory=list)
    opened: float | None = None
    probing: float | None = None  # when the half-open probe went


class MemoryBreaker(Breaker):
    """One process's circuits; `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._circuits: dict[str, _Circuit] = {}
        self._tallies: dict[str, Tally] = {}

    def allow(self, key: str) -> bool:
        with self._lock:
            circuit = self._circuits.get(key)
            now = self.clock()
            if circuit is None or state_of(circuit.opened, now) == "closed":
                return True
            if state_of(circuit.opened, now) == "open":
                return False
            if circuit.probing is not None and now - circuit.probing < PROBE_FOR:
                return False
            circuit.probing = now  # half-open: this caller is the one probe
            return True

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            circuit = self._circuits.setdefault(key, _Circuit())
            circuit.probing = None
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
            return state_of(circuit and circuit.opened, self.clock())

    def record(self, key: str, outcome: str, seconds: float | None, error: str | None) -> None:
        with self._lock:
            self._tallies.setdefault(key, Tally()).add(outcome, seconds, error, time.time())

    def health(self, keys: list[str]) -> dict[str, dict]:
        with self._lock:
            tallies = {key: self._tallies.get(key, Tally()) for key in keys}
        return {key: tally.as_json(self.state(key)) for key, tally in tallies.items()}
