"""The production mode's results: in Redis, each stored in two commands."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.results.backends.redis import RedisBackend

from shared.infra.results.base import ResultStore


class RedisResults(RedisBackend, ResultStore):
    """Results in Redis. Its blocking wait counts whole seconds (rounded down), so the last
    partial second of a deadline is a non-blocking look."""

    def _store(self, message_key, result, ttl) -> None:
        """Push the result and set its expiry in one round trip. dramatiq's own store also
        deletes the key first, inside MULTI/EXEC (five commands): a job's key is new, and a job
        run twice (its worker died before acknowledging it) pushes a second result as true as
        the first, which the waiter may read as well."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.lpush(message_key, self.encoder.encode(result))
            pipe.pexpire(message_key, ttl)
            pipe.execute()

    def wait(self, message: dramatiq.Message, remaining_ms: int) -> Any:
        """The job's result, waiting up to the whole seconds of `remaining_ms`."""
        if remaining_ms >= 1000:
            return self.get_result(message, block=True, timeout=remaining_ms)
        return self.get_result(message)
