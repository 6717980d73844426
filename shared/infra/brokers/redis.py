"""The production mode's broker: dramatiq's Redis broker, where a delivery job's id is its
message's, and the one module that reads dramatiq's keys in Redis.

A queue `<namespace>:<queue>` is a list of job ids with their data in `<queue>.msgs`; each
worker's unacknowledged jobs are a set `<namespace>:__acks__.<worker>.<queue>`; dead letters
are the sorted set `<queue>.XQ` (by the time they died) with their data in `<queue>.XQ.msgs`,
kept a week."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import dramatiq
from dramatiq.brokers import redis as dramatiq_redis
from dramatiq.common import current_millis, dq_name, xq_name

from shared.infra.brokers.base import DeadLetter, DeliveryBroker


class RedisBroker(dramatiq_redis.RedisBroker, DeliveryBroker):
    """The Redis broker, where a job's id in Redis is its `job` option when it has one: the
    sweeper asks whether a message's job is still held (`held_jobs`) before enqueueing it
    again."""

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None) -> dramatiq.Message:
        job = message.options.get("job")
        if job is None or delay is not None:
            return super().enqueue(message, delay=delay)
        message = message.copy(options={"redis_message_id": job})
        self.emit_before("enqueue", message, delay)
        self.do_enqueue(message.queue_name, job, message.encode())
        self.emit_after("enqueue", message, delay)
        return message

    def enqueue_all(self, messages: list[dramatiq.Message]) -> list[dramatiq.Message]:
        """Enqueue jobs in one round trip: dramatiq's own enqueue script, once per job, in one
        pipeline (its arguments as `RedisBroker._dispatch` gives them; dramatiq is pinned to
        the minor version this was written for). Raises if Redis fails; a job that went anyway
        is in Redis under its id, which the sweeper looks for before enqueueing again."""
        dispatch, keys = self.scripts["dispatch"], [self.namespace]
        enqueued = []
        with self.client.pipeline(transaction=False) as pipe:
            for message in messages:
                job = message.options.get("job") or str(uuid4())
                message = message.copy(options={"redis_message_id": job})
                self.emit_before("enqueue", message, None)
                args = [
                    "enqueue",
                    current_millis(),
                    message.queue_name,
                    self.broker_id,
                    self.heartbeat_timeout,
                    self.dead_message_ttl,
                    self._should_do_maintenance("enqueue"),
                    self._max_unpack_size(),
                    job,
                    message.encode(),
                ]
                dispatch(keys=keys, args=args, client=pipe)
                enqueued.append(message)
            pipe.execute()
        for message in enqueued:
            self.emit_after("enqueue", message, None)
        return enqueued

    def reachable(self) -> bool:
        try:
            self.client.ping()
        except Exception:  # noqa: BLE001 - any failure to answer means unreachable
            return False
        return True

    def _key(self, queue_name: str) -> str:
        """The Redis key of a queue; its delayed and dead-letter keys derive from it."""
        return f"{self.namespace}:{queue_name}"

    def depths(self, queue_name: str) -> dict[str, int]:
        client, queue = self.client, self._key(queue_name)
        acks = client.scan_iter(f"{self.namespace}:__acks__.*.{queue_name}")  # one per worker
        return {
            "ready": client.llen(queue),
            "delayed": client.llen(dq_name(queue)),
            "inProgress": sum(client.scard(key) for key in acks),
            "deadLetters": client.zcard(xq_name(queue)),
        }

    def held_jobs(self, queue_name: str, job_ids: list[str]) -> set[str]:
        pipeline = self.client.pipeline(transaction=False)
        for job in job_ids:
            pipeline.hexists(f"{self._key(queue_name)}.msgs", job)
        return {job for job, there in zip(job_ids, pipeline.execute(), strict=True) if there}

    def dead_letters_of(self, queue_name: str) -> list[DeadLetter]:
        key = xq_name(self._key(queue_name))
        entries = self.client.zrange(key, 0, -1, withscores=True)
        if not entries:
            return []
        data = self.client.hmget(f"{key}.msgs", [letter_id for letter_id, _ in entries])
        found = []
        for (letter_id, score), raw in zip(entries, data, strict=True):
            if raw is not None:
                stamp = datetime.fromtimestamp(score / 1000, UTC)
                found.append(DeadLetter(letter_id.decode(), stamp, dramatiq.Message.decode(raw)))
        return found

    def drop_dead_letter(self, queue_name: str, job_id: str) -> None:
        key = xq_name(self._key(queue_name))
        self.client.zrem(key, job_id)
        self.client.hdel(f"{key}.msgs", job_id)
