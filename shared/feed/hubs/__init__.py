"""Feed hubs, from a published event to the open streams: `base.py`; `memory.py`; `redis.py`."""
