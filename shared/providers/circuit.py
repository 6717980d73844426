"""The circuit breaker of the mode (SPEC §8), and each default provider's health as `/ops` and
`/metrics` show it. One breaker per process and Herald: the embedded web app and its
in-process worker share the memory one, so the page reads the circuits the sends use; in
production every process's breaker is a view of the same Redis hashes."""

from __future__ import annotations

import threading

from shared.infra.config import Settings
from shared.providers.breakers.base import STATES, Breaker
from shared.providers.breakers.memory import MemoryBreaker
from shared.providers.breakers.redis import RedisBreaker

_BREAKERS: dict[tuple, Breaker] = {}
_LOCK = threading.Lock()


def circuit_key(scope: str, channel: str, name: str) -> str:
    """The name of a chain member's circuit: the operator's default chains are scope
    `default`."""
    return f"{scope}:{channel}:{name}"


def build_breaker(settings: Settings) -> Breaker:
    """This process's breaker for this Herald: in memory when embedded (one per database),
    in Redis otherwise (one per Redis namespace)."""
    if settings.embedded:
        where: tuple = ("memory", settings.database_url)
    else:
        where = ("redis", settings.redis_url, settings.redis_namespace)
    with _LOCK:
        if where not in _BREAKERS:
            _BREAKERS[where] = (
                MemoryBreaker()
                if settings.embedded
                else RedisBreaker(settings.redis_url, settings.redis_namespace)
            )
        return _BREAKERS[where]


def provider_health(settings: Settings, breaker: Breaker | None = None) -> list[dict]:
    """Each provider of the default chains, in chain order, with its circuit's state and its
    figures as every process tallied them (`Tally.as_json`)."""
    breaker = breaker or build_breaker(settings)
    members = [
        (url, circuit_key("default", channel, url.name))
        for channel, urls in settings.chains.items()
        for url in urls
    ]
    try:
        figures = breaker.health([key for _, key in members])
    except Exception:  # noqa: BLE001 - Redis unreachable: the page still shows the chains
        figures = {}
    return [
        {
            "channel": url.channel,
            "name": url.name,
            "kind": url.kind,
            "url": url.masked,
            **figures.get(key, {"state": "unknown"}),
        }
        for url, key in members
    ]


def circuit_states(settings: Settings) -> list[tuple[str, str, int]]:
    """(channel, provider, state) of each default provider for the circuit state gauge:
    0 closed, 1 half-open, 2 open."""
    return [
        (entry["channel"], entry["name"], STATES[entry["state"]])
        for entry in provider_health(settings)
        if entry["state"] in STATES
    ]
