"""Token buckets, the interface: a bucket holds up to `burst` tokens and refills at `rate`
tokens a second; each request takes one. `take` answers with what the RateLimit-* headers say.
Each mode's buckets are a module here; `shared.tenancy.ratelimit.build_buckets` picks one."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """A bucket's size and refill: `burst` requests at once, `rate` a second after that."""

    rate: float
    burst: int


@dataclass(frozen=True)
class Decision:
    """One request's take from a bucket, with what the RateLimit-* headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds until one token is back (0 when allowed)

    def headers(self) -> dict[str, str]:
        """The RateLimit-* headers, and Retry-After when refused."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


def decide(budget: Budget, allowed: bool, tokens: float) -> Decision:
    """The decision from a bucket's state after the take."""
    return Decision(
        allowed=allowed,
        limit=budget.burst,
        remaining=max(0, math.floor(tokens)),
        reset=math.ceil(max(0.0, budget.burst - tokens) / budget.rate),
        retry_after=0 if allowed else max(1, math.ceil((1 - tokens) / budget.rate)),
    )


class Buckets:
    """Where buckets live; `take` is the only operation."""

    def take(self, key: str, budget: Budget) -> Decision:
        """Take one token from the bucket `key` (created full), refilled at `budget`."""
        raise NotImplementedError
