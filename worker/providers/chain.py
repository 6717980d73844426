"""A channel's provider chain tried in order (SPEC §8). Transient errors are retried only on
the chain's last member (within the budget); on the others a transient error hands the send
to the next member at once, like a failover error."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.infra import Settings, utcnow
from shared.operations.metrics import PROVIDER_ATTEMPT_SECONDS, PROVIDER_ATTEMPTS
from shared.providers.circuit import circuit_key
from worker.providers import build_provider
from worker.providers.base import Provider, ProviderError, send_with_retries
from worker.providers.circuit import Breaker
from worker.providers.content import Email, Sms


@dataclass
class Chain:
    channel: str
    members: list[Provider]
    scope: str = "default"

    def key(self, provider: Provider) -> str:
        return circuit_key(self.scope, self.channel, provider.name)


@dataclass
class Outcome:
    status: str  # sent, failed, unknown
    provider: str | None = None
    provider_id: str | None = None
    error: ProviderError | None = None
    attempts: list[dict] = field(default_factory=list)


@dataclass
class _Attempts:
    """Where each attempt is noted: the outcome's list, the provider's metrics (by channel and
    provider) and the breaker's tally, which `/ops` shows."""

    chain: Chain
    breaker: Breaker
    outcome: Outcome

    def note(self, provider: Provider, result: str, error, started: float | None) -> None:
        """One attempt: `result` is sent, failed, unknown, failover or skipped."""
        seconds = None if started is None else time.monotonic() - started
        error = None if error is None else str(error)
        self.outcome.attempts.append(
            {
                "provider": provider.name,
                "outcome": result,
                "error": error,
                "at": utcnow().isoformat(),
            }
        )
        PROVIDER_ATTEMPTS.labels(self.chain.channel, provider.name, result).inc()
        if seconds is not None:
            PROVIDER_ATTEMPT_SECONDS.labels(self.chain.channel, provider.name).observe(seconds)
        self.breaker.record(self.chain.key(provider), result, seconds, error)


def _try(provider: Provider, content, budget: float, posting, last: bool) -> str:
    """One member's send: retried within the budget only when it is the last member."""
    if last:
        return send_with_retries(provider, content, budget, posting)
    return provider.send(content, posting)


def send_through(
    chain: Chain,
    content: Email | Sms,
    budget: float,
    posting: Callable[[], object],
    breaker: Breaker,
    unposting: Callable[[], object] = lambda: None,
) -> Outcome:
    """Try the members in order; `posting` marks the channel `unknown` as a request starts to
    go, `unposting` takes that back after a certain failover error, before the next member."""
    outcome = Outcome("failed")
    attempts = _Attempts(chain, breaker, outcome)
    for index, provider in enumerate(chain.members):
        key = chain.key(provider)
        # the only provider is never skipped: skipping it would fail messages that may go
        if len(chain.members) > 1 and not breaker.allow(key):
            attempts.note(provider, "skipped", "provider/circuitOpen", None)
            continue
        last = index == len(chain.members) - 1
        started = time.monotonic()
        try:
            provider_id = _try(provider, content, budget, posting, last)
        except ProviderError as error:
            outcome.error = error
            if error.unknown:
                attempts.note(provider, "unknown", error, started)
                outcome.status = "unknown"
                return outcome
            if not error.failover:
                breaker.succeeded(key)  # the provider answered: refused this recipient
                attempts.note(provider, "failed", error, started)
                return outcome
            breaker.failed(key)
            attempts.note(provider, "failover", error, started)
            unposting()
            continue
        breaker.succeeded(key)
        attempts.note(provider, "sent", None, started)
        return Outcome("sent", provider.name, provider_id, None, outcome.attempts)
    return outcome


def default_chains(settings: Settings, first: dict[str, Provider]) -> dict[str, Chain]:
    """Each channel's default chain from the settings, its first member the one already built."""
    return {
        channel: Chain(channel, [first[channel], *(build_provider(settings, u) for u in urls[1:])])
        for channel, urls in settings.chains.items()
    }
