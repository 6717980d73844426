"""Entry point of `dramatiq worker.main`: the production worker process."""

from __future__ import annotations

import dramatiq

from shared.infra.broker import build_broker
from shared.infra.config import Settings
from shared.infra.db import check_schema, make_engine
from shared.infra.logs import JobLogs, configure_logging
from worker.runtime import QuietWorkerThreads, SweeperMiddleware, register_actors

configure_logging("worker")
settings = Settings.from_env()
engine = make_engine(settings, threads=settings.worker_threads)
check_schema(engine)  # refuse to start on an old schema, saying to run `herald db upgrade`
broker = build_broker(settings)
broker.add_middleware(SweeperMiddleware(settings, engine))
broker.add_middleware(JobLogs())
broker.add_middleware(QuietWorkerThreads())
dramatiq.set_broker(broker)
deliver_message = register_actors(broker, settings, engine)
