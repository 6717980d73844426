"""How many feed streams may be open: `HERALD_STREAMS_PER_PROCESS` in one process, and
`HERALD_STREAMS_PER_USER` of one user of a project in the whole deployment.

A process counts its own streams in memory. A user's streams are counted in memory too in the
embedded mode (one process); in production in Redis, where every stream process sees them: a
sorted set per user whose members are the open streams, each scored with the instant its lease
ends. The process holding a stream renews the leases of all its streams every few seconds, so
the streams of a process that died stop counting within LEASE_SECONDS.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import NamedTuple

import redis

from shared.infra.config import Settings
from shared.infra.errors import RateLimited

log = logging.getLogger("herald.streams")
LEASE_SECONDS = 30
RETRY_AFTER = LEASE_SECONDS  # a refused page may retry once a stream of a dead process expired

# KEYS[1] the user's set; ARGV the cap, the stream's token, the lease in ms. On Redis's clock:
# drop the expired leases, then add this one if the user has fewer than the cap.
_OPEN = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
# KEYS the users' sets; ARGV[1] the lease in ms, then each key's token: extend every lease.
_RENEW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lease = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', key, lease)
end
return #KEYS
"""


class Lease(NamedTuple):
    """One open stream's place: whose it is, and its token among that user's streams."""

    project_id: str
    user_id: str
    token: str


def too_many(message: str) -> RateLimited:
    """The 429 of a stream refused by a cap; the answer carries Retry-After: RETRY_AFTER."""
    return RateLimited("stream/tooMany", message)


class StreamCaps:
    """The open streams of this process, within both caps; a subclass counts a user's streams
    (`_take_user`, `_release_user`)."""

    def __init__(self, per_user: int, per_process: int) -> None:
        self.per_user, self.per_process = per_user, per_process
        self._lock = threading.Lock()
        self.open_here = 0

    def open(self, project_id: str, user_id: str) -> Lease:
        """A place for one more stream of this user, or RateLimited `stream/tooMany`."""
        lease = Lease(project_id, user_id, secrets.token_hex(8))
        if not self._take_user(lease):
            raise too_many(
                f"This user already has {self.per_user} streams open (one a page); close one, "
                f"or retry in {RETRY_AFTER} s."
            )
        with self._lock:
            room = self.open_here < self.per_process
            if room:
                self.open_here += 1
        if not room:
            self._release_user(lease)
            raise too_many(
                f"This server already holds its {self.per_process} streams; retry in "
                f"{RETRY_AFTER} s (the bell polls meanwhile)."
            )
        return lease

    def close(self, lease: Lease) -> None:
        """The stream ended: its place is free."""
        self._release_here()
        self._release_user(lease)

    def _release_here(self) -> None:
        """One stream fewer in this process."""
        with self._lock:
            self.open_here -= 1

    def _take_user(self, lease: Lease) -> bool:
        """Count the stream among its user's, unless they have the cap already: True if so."""
        raise NotImplementedError

    def _release_user(self, lease: Lease) -> None:
        """The stream no longer counts among its user's."""
        raise NotImplementedError


class MemoryCaps(StreamCaps):
    """The embedded mode: one process holds every stream, so it counts a user's too."""

    def __init__(self, per_user: int, per_process: int) -> None:
        super().__init__(per_user, per_process)
        self._users: dict[tuple[str, str], int] = {}

    def _take_user(self, lease: Lease) -> bool:
        key = (lease.project_id, lease.user_id)
        with self._lock:
            if self._users.get(key, 0) >= self.per_user:
                return False
            self._users[key] = self._users.get(key, 0) + 1
        return True

    def _release_user(self, lease: Lease) -> None:
        key = (lease.project_id, lease.user_id)
        with self._lock:
            left = self._users.pop(key, 1) - 1
            if left:
                self._users[key] = left


class RedisCaps(StreamCaps):
    """Production: a user's streams counted in Redis across every process of the namespace,
    each held by a lease this process renews (a thread of its own, from the first stream)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.streams_per_user, settings.streams_per_process)
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        self._open, self._renew = client.register_script(_OPEN), client.register_script(_RENEW)
        self._prefix = f"{settings.redis_namespace}:streams:"
        self._client = client
        self._held: set[Lease] = set()
        self._renewer: threading.Thread | None = None

    def _key(self, lease: Lease) -> str:
        """The user's sorted set."""
        # project ids never contain ":", so the user id may
        return f"{self._prefix}{lease.project_id}:{lease.user_id}"

    def _take_user(self, lease: Lease) -> bool:
        try:
            args = [self.per_user, lease.token, LEASE_SECONDS * 1000]
            taken = bool(self._open(keys=[self._key(lease)], args=args))
        except redis.RedisError as error:  # fail open: the stream needs Redis anyway
            log.warning("stream cap per user not enforced: %s", type(error).__name__)
            taken = True
        if taken:
            with self._lock:
                self._held.add(lease)
                if self._renewer is None:
                    self._renewer = threading.Thread(target=self._renew_forever, daemon=True)
                    self._renewer.start()
        return taken

    def _release_user(self, lease: Lease) -> None:
        with self._lock:
            self._held.discard(lease)
        try:
            self._client.zrem(self._key(lease), lease.token)
        except redis.RedisError as error:  # its lease runs out instead
            log.warning("stream place not released: %s", type(error).__name__)

    def renew(self) -> None:
        """Extend the lease of every stream this process holds."""
        with self._lock:
            held = list(self._held)
        for start in range(0, len(held), 500):
            batch = held[start : start + 500]
            args = [LEASE_SECONDS * 1000, *(lease.token for lease in batch)]
            self._renew(keys=[self._key(lease) for lease in batch], args=args)

    def _renew_forever(self) -> None:
        """Renew the leases every third of their length, for as long as the process runs."""
        while True:
            time.sleep(LEASE_SECONDS / 3)
            try:
                self.renew()
            except redis.RedisError as error:
                log.warning("stream leases not renewed: %s", type(error).__name__)


def build_caps(settings: Settings) -> StreamCaps:
    """Redis-counted caps when a Redis is configured, else memory."""
    if settings.embedded:
        return MemoryCaps(settings.streams_per_user, settings.streams_per_process)
    return RedisCaps(settings)
