"""Wiring of a worker, one for both modes: `wire_worker` readies a broker to deliver (the actor,
the sweeper thread, job logs, quiet idle threads); `worker.main` calls it in dramatiq's worker
processes, `start_worker` in-process (the embedded mode, and the tests)."""

from __future__ import annotations

import logging
import threading

import dramatiq
from dramatiq.middleware import Middleware

from shared.infra import DELIVER, QUEUE, JobLogs, Settings
from shared.infra.addresses import DEFAULT_PUBLIC_URL
from shared.messages import sweep
from shared.templating import render_pool_started, use_settings
from worker.delivery import DeliveryServices, deliver_message
from worker.providers import build_providers
from worker.webhooks import WEBHOOK_QUEUE, WebhookPump, declare_post_actor

log = logging.getLogger("herald.worker")


def wire_worker(broker: dramatiq.Broker, settings: Settings, engine) -> dramatiq.Actor:
    """Ready `broker` to deliver in this process: its middleware, and the actor."""
    use_settings(settings)  # the render pool that delivery renders tenants' templates in
    render_pool_started()
    broker.add_middleware(SweeperMiddleware(settings, engine))
    broker.add_middleware(JobLogs())
    broker.add_middleware(QuietWorkerThreads())
    if not settings.embedded and settings.public_url == DEFAULT_PUBLIC_URL:
        log.warning(
            "HERALD_PUBLIC_URL is not set: the e-mails' unsubscribe links point at %s, "
            "which the recipients can't reach; set it to the address Herald is reached at.",
            settings.public_url,
        )
    broker.add_middleware(WebhookPump(settings, engine))
    declare_post_actor(broker, settings, engine)
    return _declare_actor(broker, settings, engine)


def _declare_actor(broker: dramatiq.Broker, settings: Settings, engine) -> dramatiq.Actor:
    """Declare `deliver_message` on this broker with the services it runs with."""
    services = DeliveryServices(settings, engine, build_providers(settings))

    def deliver(message_pk: int, refresh_widget: bool = False) -> dict:
        return deliver_message(services, message_pk, refresh_widget)

    deliver.__name__ = DELIVER
    return dramatiq.actor(
        deliver,
        actor_name=DELIVER,
        queue_name=QUEUE,
        broker=broker,
        store_results=True,
        max_retries=0,
        time_limit=int(settings.send_time_limit * 1000),
    )


class QuietWorkerThreads(Middleware):
    """dramatiq gives its worker threads the consumer's idle poll (`dramatiq_worker_timeout`,
    20 ms in the Procfile, which is how soon an idle worker sees a new job) as the time they
    wait for work before looking again: 32 threads a process woke 1,600 times a second to find
    nothing, each waking taking the GIL from the threads that had work. A thread is woken by the
    job it is given whatever the wait, so they wait up to `IDLE_WAIT` s; stopping the worker
    takes at most that long more."""

    IDLE_WAIT = 1.0

    def after_worker_thread_boot(self, broker, thread) -> None:
        thread.timeout = max(thread.timeout, self.IDLE_WAIT)


class SweeperMiddleware(Middleware):
    """Runs the sweeper every `HERALD_SWEEP_INTERVAL` seconds in each worker process."""

    def __init__(self, settings: Settings, engine) -> None:
        self.settings = settings
        self.engine = engine
        self.stopped = threading.Event()

    def after_worker_boot(self, broker, worker) -> None:
        threading.Thread(
            target=self._loop, args=(broker,), name="herald-sweeper", daemon=True
        ).start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self.stopped.set()

    def _loop(self, broker) -> None:
        while not self.stopped.wait(self.settings.sweep_interval):
            try:
                sweep(self.engine, broker, self.settings)
            except Exception:  # noqa: BLE001 - a failed pass is retried on the next tick
                log.exception("sweeper pass failed")


class Workers:
    """The in-process pools: one delivering messages, one posting webhooks (its own threads,
    so that a slow endpoint never takes a thread a message's delivery needs)."""

    WEBHOOK_THREADS = 4

    def __init__(self, broker: dramatiq.Broker, threads: int) -> None:
        self.pools = [
            dramatiq.Worker(broker, queues={QUEUE}, worker_threads=threads, worker_timeout=20),
            dramatiq.Worker(
                broker,
                queues={WEBHOOK_QUEUE},
                worker_threads=self.WEBHOOK_THREADS,
                worker_timeout=20,
            ),
        ]

    def start(self) -> None:
        for pool in self.pools:
            pool.start()

    def stop(self) -> None:
        for pool in self.pools:
            pool.stop()


def start_worker(
    broker: dramatiq.Broker, settings: Settings, engine, threads: int | None = None
) -> Workers:
    """The in-process worker pools (the embedded mode, and the tests)."""
    wire_worker(broker, settings, engine)
    workers = Workers(broker, threads or settings.worker_threads)
    workers.start()
    return workers
