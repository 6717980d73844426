"""Push (SPEC §10) as the API and the worker share it: the VAPID key of Web Push."""
