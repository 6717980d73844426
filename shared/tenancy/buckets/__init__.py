"""Request budgets' buckets: `base.py`, the interface and its rule; `memory.py`; `redis.py`."""
