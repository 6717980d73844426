"""The sweeper: releases scheduled messages whose time has come and re-enqueues messages that
were persisted but never processed (the enqueue failed, or the broker lost the job)."""

from __future__ import annotations

from datetime import datetime, timedelta

import dramatiq
from sqlalchemy import Engine, update

from shared.broker import enqueue_delivery
from shared.config import Settings
from shared.db import transaction
from shared.models import messages, utcnow


def sweep(
    engine: Engine, broker: dramatiq.Broker, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """One pass as of `now` (the clock's time by default); returns how many messages it
    released and re-enqueued.

    Each message is taken by a conditional UPDATE ... RETURNING, so sweepers running in several
    processes never enqueue the same message twice in one pass.
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=settings.sweep_requeue_after)
    with transaction(engine) as connection:
        released = (
            connection.execute(
                update(messages)
                .where(messages.c.status == "scheduled", messages.c.scheduled_at <= now)
                .values(status="queued", enqueued_at=now)
                .returning(messages.c.pk)
            )
            .scalars()
            .all()
        )
        requeued = (
            connection.execute(
                update(messages)
                .where(messages.c.status == "queued", messages.c.enqueued_at < stale)
                .values(enqueued_at=now)
                .returning(messages.c.pk)
            )
            .scalars()
            .all()
        )
    for pk in [*released, *requeued]:
        enqueue_delivery(broker, pk)
    return {"released": len(released), "requeued": len(requeued)}
