"""The sweeper: releases scheduled messages whose time has come and re-enqueues messages that
were persisted but whose job is gone (the enqueue failed, or the broker lost the job)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import dramatiq
from sqlalchemy import Connection, Engine, func, select, update

from shared.channels import MessageStatus
from shared.infra.broker import enqueue_delivery
from shared.infra.config import Settings
from shared.infra.db import autocommit
from shared.infra.models import messages, utcnow
from shared.operations.queues import jobs_waiting

CHUNK = 500  # rows per statement: a long backlog is swept in bounded steps
# The PostgreSQL advisory lock held by the one sweeper running across every machine.
SWEEPER_LOCK = 0x6865_7261_6C64  # "herald"
_local = threading.Lock()  # SQLite: one process (the embedded mode), so a lock of its own


def sweep(
    engine: Engine, broker: dramatiq.Broker, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """One pass as of `now` (the clock's time by default); returns how many messages it
    released and re-enqueued (`skipped` when another sweeper holds the lock).

    One sweeper at a time; each row is still taken by a conditional UPDATE ... RETURNING, so
    even two passes never enqueue the same message twice.
    """
    with sweeper_lock(engine) as held:
        if not held:
            return {"released": 0, "requeued": 0, "skipped": 1}
        now = now or utcnow()
        released = release_scheduled(engine, broker, now)
        stale = now - timedelta(seconds=settings.sweep_requeue_after)
        requeued = requeue_lost(engine, broker, stale, now)
        return {"released": released, "requeued": requeued}


@contextlib.contextmanager
def sweeper_lock(engine: Engine) -> Iterator[bool]:
    """True inside when this process holds the sweeper's lock, False when another does."""
    if engine.dialect.name != "postgresql":
        held = _local.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                _local.release()
        return
    with engine.connect() as connection:  # a session lock: released if this process dies
        held = connection.execute(select(func.pg_try_advisory_lock(SWEEPER_LOCK))).scalar()
        connection.commit()
        try:
            yield bool(held)
        finally:
            if held:
                connection.execute(select(func.pg_advisory_unlock(SWEEPER_LOCK)))
                connection.commit()


def release_scheduled(engine: Engine, broker: dramatiq.Broker, now: datetime) -> int:
    """Queue and enqueue the scheduled messages whose time has come, a chunk at a time."""
    released = 0
    while True:
        due = (messages.c.status == MessageStatus.SCHEDULED, messages.c.scheduled_at <= now)
        with autocommit(engine) as connection:
            chunk = _chunk(connection, due)
            pks = _take(connection, chunk, due, status=MessageStatus.QUEUED, enqueued_at=now)
        _enqueue(broker, pks)
        released += len(pks)
        if len(chunk) < CHUNK:
            return released


def requeue_lost(engine: Engine, broker: dramatiq.Broker, stale: datetime, now: datetime) -> int:
    """Enqueue again, as of `now`, the messages queued before `stale` whose job is no longer in
    the broker, walking them by pk a chunk at a time (a job still waiting is left alone: a
    backlog never grows by re-enqueueing it)."""
    requeued, after = 0, 0
    while True:
        old = (messages.c.status == MessageStatus.QUEUED, messages.c.enqueued_at < stale)
        with autocommit(engine) as connection:
            chunk = _chunk(connection, (*old, messages.c.pk > after))
        lost = sorted(set(chunk) - jobs_waiting(broker, chunk))
        with autocommit(engine) as connection:
            pks = _take(connection, lost, old, enqueued_at=now)
        _enqueue(broker, pks)
        requeued += len(pks)
        if len(chunk) < CHUNK:
            return requeued
        after = chunk[-1]


def _chunk(connection: Connection, conditions: tuple) -> list[int]:
    """The first `CHUNK` pks of the messages meeting these conditions."""
    query = select(messages.c.pk).where(*conditions).order_by(messages.c.pk).limit(CHUNK)
    return connection.execute(query).scalars().all()


def _take(connection: Connection, pks: list[int], conditions: tuple, **values) -> list[int]:
    """Apply `values` to these rows if they still meet the conditions; the pks it applied to."""
    if not pks:
        return []
    statement = update(messages).where(messages.c.pk.in_(pks), *conditions).values(**values)
    return connection.execute(statement.returning(messages.c.pk)).scalars().all()


def _enqueue(broker: dramatiq.Broker, pks: list[int]) -> None:
    """One delivery job per message, in pk order."""
    for pk in sorted(pks):
        enqueue_delivery(broker, pk)
