"""The embedded mode's broker: dramatiq's in-process stub broker, which also counts the jobs it
holds by id. Its dead letters are a list of the process, lost when it stops."""

from __future__ import annotations

import threading
from collections import Counter

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from dramatiq.middleware import Middleware

from shared.infra.brokers.base import DeadLetter, DeliveryBroker


class HeldJobs(Middleware):
    """The jobs with an id (`job` option) enqueued and not yet processed, by id."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def after_enqueue(self, broker, message, delay) -> None:
        if job := message.options.get("job"):
            with self.lock:
                self.counts[job] += 1

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if job := message.options.get("job"):
            with self.lock:
                self.counts[job] -= 1
                if self.counts[job] <= 0:
                    del self.counts[job]

    after_skip_message = after_process_message


class MemoryBroker(StubBroker, DeliveryBroker):
    """The stub broker, which always answers, with its jobs counted as they come and go."""

    def __init__(self, middleware: list[Middleware]) -> None:
        super().__init__(middleware=middleware)
        self.held = HeldJobs()
        self.add_middleware(self.held)

    def enqueue_all(self, messages: list[dramatiq.Message]) -> list[dramatiq.Message]:
        return [self.enqueue(message) for message in messages]

    def reachable(self) -> bool:
        return True

    def depths(self, queue_name: str) -> dict[str, int]:
        queues = self.queues
        ready = queues[queue_name].qsize() if queue_name in queues else 0
        delayed_name = dq_name(queue_name)
        delayed = queues[delayed_name].qsize() if delayed_name in queues else 0
        return {
            "ready": ready,
            "delayed": delayed,
            "inProgress": getattr(queues.get(queue_name), "unfinished_tasks", ready) - ready,
            "deadLetters": len(self.dead_letters_by_queue[queue_name]),
        }

    def held_jobs(self, queue_name: str, job_ids: list[str]) -> set[str]:
        with self.held.lock:
            return {job for job in job_ids if self.held.counts.get(job)}

    def dead_letters_of(self, queue_name: str) -> list[DeadLetter]:
        return [
            DeadLetter(proxy.message_id, None, proxy._message)
            for proxy in self.dead_letters_by_queue[queue_name]
        ]

    def drop_dead_letter(self, queue_name: str, job_id: str) -> None:
        held = self.dead_letters_by_queue[queue_name]
        held[:] = [proxy for proxy in held if proxy.message_id != job_id]
