"""The circuit breaker the chains use (SPEC §8): its interface and each mode's live in
`shared/providers/breakers/` so that `/ops` and `/metrics`, in the web process, read the same
circuits; `build_breaker` picks this process's from the settings."""

from shared.providers.breakers.base import FAILURES, OPEN_FOR, WINDOW, Breaker
from shared.providers.breakers.memory import MemoryBreaker
from shared.providers.breakers.redis import RedisBreaker
from shared.providers.circuit import build_breaker, circuit_key

__all__ = [
    "FAILURES",
    "OPEN_FOR",
    "WINDOW",
    "Breaker",
    "MemoryBreaker",
    "RedisBreaker",
    "build_breaker",
    "circuit_key",
]
