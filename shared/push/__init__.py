"""Push (SPEC §10): what the web and worker processes share of it, the VAPID keys."""
