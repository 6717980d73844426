"""The delivery queue as an operator sees it: depths, dead letters, requeueing them, which
messages still have a job, and the messages waiting or crashed in the database. Each mode's
broker reads its own storage (`shared/infra/brokers/`).

Requeueing enqueues the same job again and then drops the dead letter, so a crash in between
leaves a job at least once, never none; delivery skips every channel already final, so nothing
sent before is sent again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from shared.infra.broker import QUEUE, job_id
from shared.infra.brokers.base import DeadLetter, DeliveryBroker
from shared.infra.db import autocommit
from shared.infra.models import messages
from shared.messages.store import CRASHED


def queue_depths(broker: DeliveryBroker) -> dict[str, int]:
    """Jobs ready, delayed, in progress and dead-lettered on the delivery queue."""
    return broker.depths(QUEUE)


def jobs_waiting(broker: DeliveryBroker, message_pks: list[int]) -> set[int]:
    """Which of these messages have a delivery job in the broker, waiting or being processed
    (a job taken by a worker that died counts: the broker gives it back to the queue)."""
    held = broker.held_jobs(QUEUE, [job_id(pk) for pk in message_pks])
    return {pk for pk in message_pks if job_id(pk) in held}


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


def dead_letters(broker: DeliveryBroker) -> list[DeadLetter]:
    """The dead-lettered delivery jobs, oldest first."""
    return broker.dead_letters_of(QUEUE)


def requeue(broker: DeliveryBroker, letters: list[DeadLetter]) -> int:
    """Move these dead letters back onto the delivery queue; how many moved."""
    for letter in letters:
        broker.enqueue(letter.job)
        broker.drop_dead_letter(QUEUE, letter.job_id)
    return len(letters)


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
    engine: Engine, broker: DeliveryBroker, message_id: str | None
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
