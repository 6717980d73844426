"""The delivery queue as an operator sees it: depths, dead letters, requeueing them, which
messages still have a job, and the messages waiting or crashed in the database (the one module
that reads dramatiq's keys in Redis).

Dramatiq dead-letters a job whose actor failed past its retries (Herald allows none, so a job
that raised or hit the time limit): Redis keeps it in the sorted set `<queue>.XQ` with its
data in `<queue>.XQ.msgs` for a week; the in-process broker keeps a list. Requeueing enqueues
the same job again and then drops the dead letter, so a crash in between leaves a job at
least once, never none; delivery skips every channel already final, so nothing sent before
is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name, xq_name
from sqlalchemy import Engine, func, select

from shared.infra.broker import QUEUE, WaitingJobs, job_id
from shared.infra.db import autocommit
from shared.messages.store import CRASHED
from shared.infra.models import messages


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered delivery job and the message it delivers."""

    job_id: str
    message_pk: int | None
    dead_since: datetime | None
    job: dramatiq.Message


def _redis_queue(broker: RedisBroker) -> str:
    """The Redis key of the delivery queue; its delayed and dead-letter keys derive from it."""
    return f"{broker.namespace}:{QUEUE}"


def queue_depths(broker: dramatiq.Broker) -> dict[str, int]:
    """Jobs ready, delayed, in progress and dead-lettered on the delivery queue."""
    if isinstance(broker, RedisBroker):
        client, queue = broker.client, _redis_queue(broker)
        acks = client.scan_iter(f"{broker.namespace}:__acks__.*.{QUEUE}")  # one set per worker
        return {
            "ready": client.llen(queue),
            "delayed": client.llen(dq_name(queue)),
            "inProgress": sum(client.scard(key) for key in acks),
            "deadLetters": client.zcard(xq_name(queue)),
        }
    queues = broker.queues
    ready = queues[QUEUE].qsize() if QUEUE in queues else 0
    delayed = queues[dq_name(QUEUE)].qsize() if dq_name(QUEUE) in queues else 0
    return {
        "ready": ready,
        "delayed": delayed,
        "inProgress": getattr(queues.get(QUEUE), "unfinished_tasks", ready) - ready,
        "deadLetters": len(broker.dead_letters_by_queue[QUEUE]),
    }


def jobs_waiting(broker: dramatiq.Broker, message_pks: list[int]) -> set[int]:
    """Which of these messages have a delivery job in the broker, waiting or being processed
    (a job taken by a worker that died counts: the broker gives it back to the queue)."""
    if isinstance(broker, RedisBroker):
        pipeline = broker.client.pipeline(transaction=False)
        for pk in message_pks:
            pipeline.hexists(f"{_redis_queue(broker)}.msgs", job_id(pk))
        return {pk for pk, there in zip(message_pks, pipeline.execute(), strict=True) if there}
    for middleware in broker.middleware:
        if isinstance(middleware, WaitingJobs):
            with middleware.lock:
                return {pk for pk in message_pks if middleware.waiting.get(pk)}
    return set()


def messages_waiting(engine: Engine) -> dict[str, int]:
    """Messages waiting in the database (queued, scheduled), and those failed with
    `delivery/crashed`."""
    with autocommit(engine) as connection:
        waiting = dict(
            connection.execute(
                select(messages.c.status, func.count())
                .where(messages.c.status.in_(("queued", "scheduled")))
                .group_by(messages.c.status)
            ).all()
        )
        crashed = connection.execute(
            select(func.count()).where(messages.c.status == "failed", messages.c.error == CRASHED)
        ).scalar_one()
    return {
        "queued": waiting.get("queued", 0),
        "scheduled": waiting.get("scheduled", 0),
        "crashed": crashed,
    }


def dead_letters(broker: dramatiq.Broker) -> list[DeadLetter]:
    """The dead-lettered delivery jobs, oldest first."""
    if not isinstance(broker, RedisBroker):
        return [
            DeadLetter(proxy.message_id, _pk(proxy._message), None, proxy._message)
            for proxy in broker.dead_letters_by_queue[QUEUE]
        ]
    key = xq_name(_redis_queue(broker))
    entries = broker.client.zrange(key, 0, -1, withscores=True)
    if not entries:
        return []
    data = broker.client.hmget(f"{key}.msgs", [letter_id for letter_id, _ in entries])
    found = []
    for (letter_id, score), raw in zip(entries, data, strict=True):
        if raw is not None:
            job = dramatiq.Message.decode(raw)
            stamp = datetime.fromtimestamp(score / 1000, UTC)
            found.append(DeadLetter(letter_id.decode(), _pk(job), stamp, job))
    return found


def _pk(job: dramatiq.Message) -> int | None:
    """The message a delivery job delivers."""
    return job.args[0] if job.args and isinstance(job.args[0], int) else None


def requeue(broker: dramatiq.Broker, letters: list[DeadLetter]) -> int:
    """Move these dead letters back onto the delivery queue; how many moved."""
    moved = 0
    for letter in letters:
        broker.enqueue(letter.job)
        if isinstance(broker, RedisBroker):
            key = xq_name(_redis_queue(broker))
            broker.client.zrem(key, letter.job_id)
            broker.client.hdel(f"{key}.msgs", letter.job_id)
        else:
            held = broker.dead_letters_by_queue[QUEUE]
            held[:] = [proxy for proxy in held if proxy.message_id != letter.job_id]
        moved += 1
    return moved


def describe(engine: Engine, letters: list[DeadLetter]) -> list[dict[str, Any]]:
    """Dead letters with their message's id, project and status, as the operator sees them."""
    pks = [letter.message_pk for letter in letters if letter.message_pk is not None]
    with autocommit(engine) as connection:
        rows = {
            row.pk: row
            for row in connection.execute(
                select(
                    messages.c.pk, messages.c.id, messages.c.project_id, messages.c.status
                ).where(messages.c.pk.in_(pks))
            )
        }
    described = []
    for letter in letters:
        row = rows.get(letter.message_pk)
        described.append(
            {
                "jobId": letter.job_id,
                "messageId": row.id if row else None,
                "projectId": row.project_id if row else None,
                "status": row.status if row else None,
                "deadSince": letter.dead_since.isoformat() if letter.dead_since else None,
            }
        )
    return described


def select_letters(
    engine: Engine, broker: dramatiq.Broker, message_id: str | None
) -> list[DeadLetter]:
    """Every dead letter, or those of one message id (Herald's message id or the job's id)."""
    letters = dead_letters(broker)
    if message_id is None:
        return letters
    return [
        letter
        for letter, shown in zip(letters, describe(engine, letters), strict=True)
        if message_id in (letter.job_id, shown["messageId"])
    ]
