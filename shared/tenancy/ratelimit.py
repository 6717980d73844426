"""Request budgets (SPEC §2): token buckets shared by every web process, in Redis in
production (one Lua script, atomic, on Redis's clock) and in memory in the embedded mode.

A bucket holds up to `burst` tokens and refills at `rate` tokens a second; each request takes
one. The backend API has a bucket per project, the frontend API one per user of a project.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import redis
from sqlalchemy import Connection, select, update

from shared.infra.config import Settings
from shared.infra.errors import HeraldError, NotFound, RateLimited
from shared.infra.models import projects

# KEYS[1] the bucket; ARGV rate, burst. Returns {allowed, tokens left as a string}: Lua numbers
# come back from Redis as integers, which would drop the fraction.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""

log = logging.getLogger("herald.ratelimit")


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
        raise NotImplementedError


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


class RedisBuckets(Buckets):
    """Buckets in Redis, shared by every web process of the namespace."""

    def __init__(self, url: str, namespace: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_TAKE)
        self._prefix = f"{namespace}:ratelimit:"

    def take(self, key: str, budget: Budget) -> Decision:
        try:
            allowed, tokens = self._script(
                keys=[self._prefix + key], args=[budget.rate, budget.burst]
            )
        except redis.RedisError as error:
            # Fail open: the database can still take the batch, and its messages wait `queued`
            # for the sweeper; refusing would turn a broker outage into lost sends.
            log.warning("rate limit not enforced, Redis unreachable: %s", type(error).__name__)
            return decide(budget, True, float(budget.burst))
        return decide(budget, bool(allowed), float(tokens))


def build_buckets(settings: Settings) -> Buckets:
    """Redis buckets when a Redis is configured, else memory."""
    if settings.redis_url is None:
        return MemoryBuckets()
    return RedisBuckets(settings.redis_url, settings.redis_namespace)


def project_budget(connection: Connection, project_id: str, settings: Settings) -> Budget:
    """The project's backend API budget: its own, or the configured default."""
    row = connection.execute(
        select(projects.c.rate_limit, projects.c.rate_burst).where(projects.c.id == project_id)
    ).first()
    rate = row.rate_limit if row is not None and row.rate_limit else settings.rate_limit
    burst = row.rate_burst if row is not None and row.rate_burst else settings.rate_burst
    return Budget(float(rate), int(burst))


def set_project_budget(connection: Connection, project_id: str, budget: Budget) -> None:
    """Store a project's budget (`herald limits set`)."""
    if budget.rate <= 0 or budget.burst < 1:
        raise HeraldError("limits/invalid", "The rate must be above 0 and the burst at least 1.")
    changed = connection.execute(
        update(projects)
        .where(projects.c.id == project_id)
        .values(rate_limit=budget.rate, rate_burst=budget.burst)
    ).rowcount
    if not changed:
        raise NotFound("project/notFound", f"No project with id {project_id!r}.")


def take_front(buckets: Buckets, settings: Settings, project_id: str, user_id: str) -> Decision:
    """One frontend API request of a user: its own, smaller budget."""
    budget = Budget(settings.front_rate_limit, settings.front_rate_burst)
    return buckets.take(f"front:{project_id}:{user_id}", budget)


def refused(decision: Decision) -> RateLimited:
    """The error of a refused request (a 429 at the API)."""
    return RateLimited(
        "rateLimit/exceeded",
        f"Too many requests: the budget is {decision.limit} at once; "
        f"retry in {decision.retry_after} s.",
    )
