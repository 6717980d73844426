"""Each mode's broker: the interface (`base.py`), `memory.py` (embedded), `redis.py`."""
