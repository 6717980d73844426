"""Delivering the webhook outbox (SPEC §9): the `post_webhook` job, on a queue of its own so
that a slow endpoint never holds a message's delivery, and the pump that fans events out and
enqueues the posts that are due (shared.webhooks.dispatch), in each process that posts.

A post is at least once: its job marks nothing before it posts, so a worker killed during the
post leaves the delivery pending, and the pump enqueues it again once its job is taken for
lost; the receiver gets the same `webhook-id` and dedupes on it."""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
from dramatiq.middleware import Middleware

from shared.infra import Settings, autocommit, transaction, utcnow
from shared.infra.errors import HeraldError
from shared.operations.metrics import WEBHOOK_POST_SECONDS, WEBHOOK_POSTS
from shared.webhooks import event_body, signing_secrets, target
from shared.webhooks.dispatch import fan_out, load_delivery, record_post, take_due, take_next
from shared.webhooks.posting import Posted, encode, post_event

log = logging.getLogger("herald.webhooks")
WEBHOOK_QUEUE = "herald-webhooks"
POST = "post_webhook"
PUMP_INTERVAL = 0.25
# Set when a post job of this process ends: the pump runs a pass at once rather than at its
# next tick, so the endpoint's slot is filled again as soon as it frees (a pass a job, not a
# post: a pass reads up to 200 due deliveries).
POSTED = threading.Event()
CHAIN_SECONDS = 5.0  # a job posts its endpoint's next due events for up to this long


def post_job(delivery_pk: int) -> dramatiq.Message:
    return dramatiq.Message(
        queue_name=WEBHOOK_QUEUE, actor_name=POST, args=(delivery_pk,), kwargs={}, options={}
    )


def post_webhook(settings: Settings, engine, delivery_pk: int) -> str | None:
    """Post one delivery's event to its endpoint and record the outcome; after a success, post
    the endpoint's next due event in the same slot, for up to CHAIN_SECONDS. The last post's
    status (None when there was nothing to post: done already, or its endpoint gone or off)."""
    started, status = time.monotonic(), None
    next_pk: int | None = delivery_pk
    while next_pk is not None:
        with autocommit(engine) as connection:
            row = load_delivery(connection, next_pk)
        if row is None:
            break
        posted = _post(settings, row)
        chain = posted.ok and time.monotonic() - started < CHAIN_SECONDS
        with transaction(engine) as connection:
            status = record_post(connection, row, posted, utcnow(), settings)
            lost_after = settings.webhook_lost_after
            next_pk = take_next(connection, row.webhook_pk, utcnow(), lost_after) if chain else None
        WEBHOOK_POSTS.labels(status).inc()
        if not posted.ok:
            log.warning("webhook post %s: %s", status, posted.error, extra={"event": row.event_id})
    POSTED.set()  # this slot is free: the pump fills it at once
    return status


def _post(settings: Settings, row) -> Posted:
    """One signed post of the delivery's event, to the address checked again now."""
    body = encode(event_body(row.type, row.event_at, row.data))
    now = utcnow()
    try:
        checked = target(row.url, settings.webhooks_allow_private)  # again: DNS may change
    except HeraldError as refused:
        return Posted(None, 0, f"{refused.code}: {refused.message}")
    secrets = signing_secrets(row, settings.secret_keys, now)
    posted = post_event(checked, row.event_id, body, secrets, settings.webhook_timeout)
    WEBHOOK_POST_SECONDS.observe(posted.duration_ms / 1000)
    return posted


def declare_post_actor(broker: dramatiq.Broker, settings: Settings, engine) -> dramatiq.Actor:
    broker.declare_queue(WEBHOOK_QUEUE)

    def post(delivery_pk: int) -> None:
        post_webhook(settings, engine, delivery_pk)

    post.__name__ = POST
    return dramatiq.actor(
        post,
        actor_name=POST,
        queue_name=WEBHOOK_QUEUE,
        broker=broker,
        max_retries=0,  # the pump's schedule retries, not dramatiq
        time_limit=int((settings.webhook_timeout + 30) * 1000),
    )


def pump_once(settings: Settings, engine, broker: dramatiq.Broker) -> int:
    """One pass: fan out new events, enqueue the posts that are due; how many were enqueued."""
    now = utcnow()
    with transaction(engine) as connection:
        while fan_out(connection, now):
            pass
    with transaction(engine) as connection:
        due = take_due(connection, now, settings.webhook_lost_after, settings.webhook_concurrency)
    if due:
        broker.enqueue_all([post_job(pk) for pk in due])
    return len(due)


class WebhookPump(Middleware):
    """Runs `pump_once` every PUMP_INTERVAL s, and as soon as a post job ends, in each
    process that consumes the webhooks queue (all processes when they consume every queue)."""

    def __init__(self, settings: Settings, engine, interval: float = PUMP_INTERVAL) -> None:
        self.settings, self.engine, self.interval = settings, engine, interval
        self.stopped = threading.Event()

    def after_worker_boot(self, broker, worker) -> None:
        queues = getattr(worker, "consumer_whitelist", None)
        if queues is None or WEBHOOK_QUEUE in queues:
            threading.Thread(
                target=self._loop, args=(broker,), name="herald-webhook-pump", daemon=True
            ).start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self.stopped.set()
        POSTED.set()

    def _loop(self, broker) -> None:
        while not self.stopped.is_set():
            POSTED.wait(self.interval)  # a tick, or a post job just ended
            POSTED.clear()
            if self.stopped.is_set():
                return
            try:
                pump_once(self.settings, self.engine, broker)
            except Exception:  # noqa: BLE001 - a failed pass is tried again on the next tick
                log.exception("webhook pump pass failed")
