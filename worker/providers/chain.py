"""A channel's provider chain tried in order (SPEC §8). Transient errors are retried only on
the chain's last member (within the budget); on the others a transient error hands the send
to the next member at once, like a failover error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shared.infra import Settings, utcnow
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
        return f"{self.scope}:{self.channel}:{provider.name}"


@dataclass
class Outcome:
    status: str  # sent, failed, unknown
    provider: str | None = None
    provider_id: str | None = None
    error: ProviderError | None = None
    attempts: list[dict] = field(default_factory=list)


def _attempt(outcome: Outcome, provider: str, result: str, error: str | None) -> None:
    outcome.attempts.append(
        {"provider": provider, "outcome": result, "error": error, "at": utcnow().isoformat()}
    )


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
    for index, provider in enumerate(chain.members):
        key = chain.key(provider)
        # the only provider is never skipped: skipping it would fail messages that may go
        if len(chain.members) > 1 and not breaker.allow(key):
            _attempt(outcome, provider.name, "skipped", "provider/circuitOpen")
            continue
        last = index == len(chain.members) - 1
        try:
            provider_id = _try(provider, content, budget, posting, last)
        except ProviderError as error:
            outcome.error = error
            if error.unknown:
                _attempt(outcome, provider.name, "unknown", str(error))
                outcome.status = "unknown"
                return outcome
            if not error.failover:
                breaker.succeeded(key)  # the provider answered: refused this recipient
                _attempt(outcome, provider.name, "failed", str(error))
                return outcome
            breaker.failed(key)
            _attempt(outcome, provider.name, "failover", str(error))
            unposting()
            continue
        breaker.succeeded(key)
        _attempt(outcome, provider.name, "sent", None)
        return Outcome("sent", provider.name, provider_id, None, outcome.attempts)
    return outcome


def default_chains(settings: Settings, first: dict[str, Provider]) -> dict[str, Chain]:
    """Each channel's default chain from the settings, its first member the one already built."""
    chains = {"email": settings.email_providers, "sms": settings.sms_providers}
    return {
        channel: Chain(channel, [first[channel], *(build_provider(settings, u) for u in urls[1:])])
        for channel, urls in chains.items()
    }
