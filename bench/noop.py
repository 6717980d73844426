"""A no-op actor on Herald's own broker setup: `dramatiq bench.noop` runs it for the bound."""

from __future__ import annotations

import dramatiq

from bench.bound import NOOP_ACTOR, NOOP_QUEUE
from shared.infra.broker import build_broker
from shared.infra.config import Settings

broker = build_broker(Settings.from_env())
dramatiq.set_broker(broker)


def noop() -> None:
    """Do nothing; the Results middleware stores the None."""


dramatiq.actor(
    noop,
    actor_name=NOOP_ACTOR,
    queue_name=NOOP_QUEUE,
    broker=broker,
    store_results=True,
    max_retries=0,
)
