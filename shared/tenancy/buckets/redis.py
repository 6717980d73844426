"""The production mode's buckets: in Redis, shared by every web process, each take one Lua
script (atomic, on Redis's clock)."""

from __future__ import annotations

import logging

import redis

from shared.tenancy.buckets.base import Buckets, Budget, Decision, decide

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
