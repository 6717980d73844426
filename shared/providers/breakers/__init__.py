"""Circuit breakers: `base.py`, the interface and its rule; `memory.py`; `redis.py`.
`shared.providers.circuit.build_breaker` picks the mode's."""
