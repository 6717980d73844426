"""What the operator runs and watches: metrics, queues and dead letters, activity, the demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import lazy_exports

# Imported on first use: `demo` and `queues` need `shared.messages`, whose `sweeper` needs
# `queues`; and a process that counts a metric (the stream, the worker) needs no demo.
if TYPE_CHECKING:
    from shared.operations.activity import LatencyWindow, oldest_waiting, per_minute
    from shared.operations.demo import ensure_demo, initials, send_demo
    from shared.operations.metrics import (
        CRASHED_MESSAGES,
        LATENCY,
        MESSAGES,
        OUTCOMES,
        PROVIDER_SENDS,
        RENDER_SECONDS,
        REQUESTS,
        SEND_SECONDS,
        STREAM_CONNECTIONS,
        exposition,
        host_registry,
        process_exited,
    )
    from shared.operations.queues import (
        dead_letters,
        describe,
        messages_waiting,
        queue_depths,
        requeue,
        select_letters,
    )

__all__ = [
    "CRASHED_MESSAGES",
    "LATENCY",
    "MESSAGES",
    "OUTCOMES",
    "PROVIDER_SENDS",
    "RENDER_SECONDS",
    "REQUESTS",
    "SEND_SECONDS",
    "STREAM_CONNECTIONS",
    "LatencyWindow",
    "dead_letters",
    "describe",
    "ensure_demo",
    "exposition",
    "host_registry",
    "initials",
    "messages_waiting",
    "oldest_waiting",
    "per_minute",
    "process_exited",
    "queue_depths",
    "requeue",
    "select_letters",
    "send_demo",
]
__getattr__ = lazy_exports(__name__, __file__, __all__)
