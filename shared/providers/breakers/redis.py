"""The production mode's breaker: each circuit a Redis hash shared by every worker process.

Cheap on the hot path: a process keeps what it last read of a circuit for up to `cache_for`
(1 s), so a send through a closed circuit reads Redis at most once a second per provider, and
a success after no failures writes nothing. A failure is counted by one Lua script (atomic
across processes); the half-open probe is taken by `SET NX PX` inside another, so one caller of
all processes probes. The tallies `/ops` shows are added up in the process and written every
`flush_every` (1 s) by a background thread, one pipeline for every provider."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

import redis

from shared.providers.breakers.base import (
    FAILURES,
    OPEN_FOR,
    OUTCOMES,
    PROBE_FOR,
    WINDOW,
    Breaker,
    Tally,
    state_of,
)

log = logging.getLogger("herald.circuit")

# KEYS: the circuit, its probe. ARGV: now, window, failures, ttl. The failure times in the
# window (the last FAILURES of them) are one field; the circuit opens at the FAILURES-th, and
# a failure while it is open (a failed probe) opens it again from now. Returns the failures
# kept and when it opened ('' when closed).
_FAIL = """
local now, window, need = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'fails', 'opened')
local kept = {}
for at in string.gmatch(state[1] or '', '[^,]+') do
  if now - tonumber(at) < window then table.insert(kept, at) end
end
table.insert(kept, ARGV[1])
while #kept > need do table.remove(kept, 1) end
local opened = state[2]
if opened or #kept >= need then opened = ARGV[1] end
redis.call('HSET', KEYS[1], 'fails', table.concat(kept, ','))
if opened then redis.call('HSET', KEYS[1], 'opened', opened) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('DEL', KEYS[2])
return {#kept, opened or ''}
"""
# KEYS: the circuit, its probe. ARGV: now, open for, probe ms. 1 when this caller may go:
# the circuit closed meanwhile, or it is half-open and this caller took the probe.
_PROBE = """
local opened = redis.call('HGET', KEYS[1], 'opened')
if not opened then return {1, ''} end
if tonumber(ARGV[1]) - tonumber(opened) < tonumber(ARGV[2]) then return {0, opened} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return {1, opened} end
return {0, opened}
"""
TTL = 3600  # a circuit no failure touched for an hour is forgotten (closed)


class RedisBreaker(Breaker):
    """Circuits and tallies in Redis under `namespace`; `clock` (Unix time, the same in
    every process) is injectable for tests."""

    def __init__(
        self,
        url: str,
        namespace: str,
        clock: Callable[[], float] = time.time,
        cache_for: float = 1.0,
        flush_every: float = 1.0,
    ) -> None:
        self.clock, self.cache_for, self.flush_every = clock, cache_for, flush_every
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._fail = self._client.register_script(_FAIL)
        self._probe = self._client.register_script(_PROBE)
        self._prefix = f"{namespace}:circuit:"
        self._lock = threading.Lock()
        self._views: dict[str, tuple[float, int, float | None]] = {}  # read at, fails, opened
        self._pending: dict[str, Tally] = {}
        self._flusher: int | None = None  # the pid whose thread flushes

    def _keys(self, key: str) -> list[str]:
        return [self._prefix + key, self._prefix + key + ":probe"]

    def _remember(self, key: str, fails: int, opened: float | None) -> tuple[int, float | None]:
        with self._lock:
            self._views[key] = (time.monotonic(), fails, opened)
        return fails, opened

    def _view(self, key: str) -> tuple[int, float | None]:
        """What this process knows of the circuit: read again when older than `cache_for`."""
        with self._lock:
            view = self._views.get(key)
        if view is not None and time.monotonic() - view[0] < self.cache_for:
            return view[1], view[2]
        fails, opened = self._client.hmget(self._keys(key)[0], "fails", "opened")
        count = len(fails.split(b",")) if fails else 0
        return self._remember(key, count, float(opened) if opened else None)

    def allow(self, key: str) -> bool:
        try:
            _, opened = self._view(key)
            state = state_of(opened, self.clock())
            if state != "halfOpen":
                return state == "closed"
            allowed, opened = self._probe(
                keys=self._keys(key), args=[self._now(), OPEN_FOR, int(PROBE_FOR * 1000)]
            )
        except redis.RedisError as error:
            return _fail_open("allowed", error)
        self._remember(key, 0 if not opened else FAILURES, float(opened) if opened else None)
        return bool(allowed)

    def failed(self, key: str) -> None:
        try:
            fails, opened = self._fail(
                keys=self._keys(key), args=[self._now(), WINDOW, FAILURES, TTL]
            )
        except redis.RedisError as error:
            _fail_open("not counted", error)
            return
        self._remember(key, int(fails), float(opened) if opened else None)

    def succeeded(self, key: str) -> None:
        try:
            if self._view(key) == (0, None):
                return  # closed with no failure: nothing to write
            self._client.delete(*self._keys(key))
        except redis.RedisError as error:
            _fail_open("not reset", error)
            return
        self._remember(key, 0, None)

    def state(self, key: str) -> str:
        opened = self._client.hget(self._keys(key)[0], "opened")
        return state_of(float(opened) if opened else None, self.clock())

    def _now(self) -> str:
        return repr(self.clock())

    def record(self, key: str, outcome: str, seconds: float | None, error: str | None) -> None:
        with self._lock:
            self._pending.setdefault(key, Tally()).add(outcome, seconds, error, time.time())
            if self._flusher != os.getpid():  # this process's first (a forked child's too)
                self._flusher = os.getpid()
                threading.Thread(
                    target=self._flush_forever, name="herald-circuit", daemon=True
                ).start()
                atexit.register(self.flush)

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self.flush_every)
            self.flush()

    def flush(self) -> None:
        """Add this process's tallies to Redis's, in one pipeline."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        pipe = self._client.pipeline(transaction=False)
        for key, tally in pending.items():
            name = self._prefix + key + ":tally"
            for outcome, count in tally.counts.items():
                pipe.hincrby(name, outcome, count)
            pipe.hincrbyfloat(name, "seconds", tally.seconds)
            pipe.hincrby(name, "timed", tally.timed)
            if tally.last_error is not None:
                pipe.hset(
                    name,
                    mapping={"lastError": tally.last_error, "lastErrorAt": tally.last_error_at},
                )
        try:
            pipe.execute()
        except redis.RedisError as error:
            log.warning("provider figures lost, Redis unreachable: %s", type(error).__name__)

    def health(self, keys: list[str]) -> dict[str, dict]:
        self.flush()
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.hget(self._keys(key)[0], "opened")
            pipe.hgetall(self._prefix + key + ":tally")
        answers = pipe.execute()
        now, found = self.clock(), {}
        for index, key in enumerate(keys):
            opened, stored = answers[2 * index], answers[2 * index + 1]
            state = state_of(float(opened) if opened else None, now)
            found[key] = _tally(stored).as_json(state)
        return found


def _tally(stored: dict[bytes, bytes]) -> Tally:
    """A tally from its Redis hash."""
    fields = {name.decode(): value.decode() for name, value in stored.items()}
    at = fields.get("lastErrorAt")
    return Tally(
        counts={outcome: int(fields.get(outcome, 0)) for outcome in OUTCOMES},
        seconds=float(fields.get("seconds", 0)),
        timed=int(fields.get("timed", 0)),
        last_error=fields.get("lastError"),
        last_error_at=float(at) if at else None,
    )


def _fail_open(what: str, error: Exception) -> bool:
    """Redis unreachable: the provider is tried (a breaker must not stop every send)."""
    log.warning("circuit %s, Redis unreachable: %s", what, type(error).__name__)
    return True
