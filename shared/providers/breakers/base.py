"""The circuit breaker per provider (SPEC §8), the interface: 5 provider-level failures in a
row within 60 s open a provider's circuit for 30 s, then one probe may go (half-open); a
success closes it. A breaker also tallies each provider's attempts, latency and last error,
which `/ops` shows: kept where the circuits are, so every worker process's sends are in them.
Each mode's breaker is a module here; `shared.providers.circuit.build_breaker` picks one."""

from __future__ import annotations

from dataclasses import dataclass, field

FAILURES = 5
WINDOW = 60.0
OPEN_FOR = 30.0
# How long a probe holds the half-open circuit: a probe whose outcome never comes back (its
# send was `unknown`, its process died) lets another go after this long.
PROBE_FOR = OPEN_FOR
OUTCOMES = ("sent", "failed", "unknown", "failover", "skipped")
STATES = {"closed": 0, "halfOpen": 1, "open": 2}  # the value of the circuit state gauge


def state_of(opened: float | None, now: float) -> str:
    """A circuit's state from when it opened (None: it is closed)."""
    if opened is None:
        return "closed"
    return "open" if now - opened < OPEN_FOR else "halfOpen"


@dataclass
class Tally:
    """A provider's attempts by outcome, the seconds they took and its last error."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    timed: int = 0  # attempts whose time is in `seconds` (a skipped one took none)
    last_error: str | None = None
    last_error_at: float | None = None  # Unix time

    def add(self, outcome: str, seconds: float | None, error: str | None, at: float) -> None:
        """Count one attempt."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if seconds is not None:
            self.seconds += seconds
            self.timed += 1
        # a provider-level error only: a recipient's refusal says nothing of the provider's
        # health, and may name the recipient
        if error is not None and outcome in ("failover", "unknown"):
            self.last_error, self.last_error_at = error, at

    def as_json(self, state: str) -> dict:
        """The figures `/ops` shows for the provider, its circuit's state with them."""
        counts = {outcome: self.counts.get(outcome, 0) for outcome in OUTCOMES}
        return {
            "state": state,
            **counts,
            "attempts": sum(counts.values()),
            "failures": counts["failover"] + counts["unknown"],
            "meanSeconds": round(self.seconds / self.timed, 4) if self.timed else None,
            "lastError": self.last_error,
            "lastErrorAt": self.last_error_at,
        }


class Breaker:
    """Whether a provider may be tried, what happened when it was, and its figures. `key`
    names a provider of a chain (`shared.providers.circuit.circuit_key`)."""

    def allow(self, key: str) -> bool:
        """May the provider be tried now: closed, or this caller is the half-open probe."""
        raise NotImplementedError

    def failed(self, key: str) -> None:
        """The provider failed at provider level (a failover error)."""
        raise NotImplementedError

    def succeeded(self, key: str) -> None:
        """The provider answered (it sent, or refused the recipient): the circuit closes."""
        raise NotImplementedError

    def state(self, key: str) -> str:
        """`closed`, `halfOpen` or `open`."""
        raise NotImplementedError

    def record(self, key: str, outcome: str, seconds: float | None, error: str | None) -> None:
        """Tally one attempt (one of `OUTCOMES`) and the seconds it took."""
        raise NotImplementedError

    def health(self, keys: list[str]) -> dict[str, dict]:
        """Each provider's state and figures (`Tally.as_json`), as every process tallied them."""
        raise NotImplementedError
