"""What Herald asks of its broker besides dramatiq's own: enqueue a batch at once, answer
whether it is reachable, and show a queue's jobs (depths, jobs still held, dead letters).

Dramatiq dead-letters a job whose actor failed past its retries (Herald allows none, so a job
that raised or hit the time limit). Each mode's broker keeps its dead letters its own way
(`memory.py`, `redis.py`); `build_broker` picks the broker of the mode once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import dramatiq


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered job, its id in the broker, and since when it is dead (if known)."""

    job_id: str
    dead_since: datetime | None
    job: dramatiq.Message

    @property
    def message_pk(self) -> int | None:
        """The message a delivery job delivers (its one argument)."""
        args = self.job.args
        return args[0] if args and isinstance(args[0], int) else None


class DeliveryBroker(dramatiq.Broker):
    """A dramatiq broker with the operations Herald's queue needs."""

    def enqueue_all(self, messages: list[dramatiq.Message]) -> list[dramatiq.Message]:
        """Enqueue these jobs at once (one round trip where the broker is remote)."""
        raise NotImplementedError

    def reachable(self) -> bool:
        """True when the broker answers."""
        raise NotImplementedError

    def depths(self, queue_name: str) -> dict[str, int]:
        """The queue's jobs `ready`, `delayed`, `inProgress` and `deadLetters`."""
        raise NotImplementedError

    def held_jobs(self, queue_name: str, job_ids: list[str]) -> set[str]:
        """Which of these job ids the queue holds, waiting or being processed (a job taken by a
        worker that died counts: the broker gives it back to the queue)."""
        raise NotImplementedError

    def dead_letters_of(self, queue_name: str) -> list[DeadLetter]:
        """The queue's dead letters, oldest first."""
        raise NotImplementedError

    def drop_dead_letter(self, queue_name: str, job_id: str) -> None:
        """Forget one dead letter (after its job was enqueued again)."""
        raise NotImplementedError
