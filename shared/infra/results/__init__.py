"""Where each mode keeps a job's result: `base.py`, the interface; `memory.py`; `redis.py`."""
