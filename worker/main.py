"""Entry point of `dramatiq worker.main`: the production worker process, wired as the embedded
mode's in-process pool is (`worker.runtime.wire_worker`)."""

from __future__ import annotations

import dramatiq

from shared.infra import Settings, build_broker, check_schema, configure_logging, make_engine
from worker.runtime import wire_worker

configure_logging("worker")
settings = Settings.from_env()
engine = make_engine(settings, threads=settings.worker_threads)
check_schema(engine)  # refuse to start on an old schema, saying to run `herald db upgrade`
broker = build_broker(settings)
dramatiq.set_broker(broker)
deliver_message = wire_worker(broker, settings, engine)
