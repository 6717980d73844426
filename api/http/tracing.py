"""Per request: its id (`X-Request-Id`, taken or made), its log line and its metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from shared.infra import logs
from shared.operations.metrics import LATENCY, REQUESTS

log = logging.getLogger("herald.request")
HEADER = "X-Request-Id"
# A caller's id is kept when it looks like an id; anything else is replaced by one of ours.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id() -> str:
    """The caller's request id if it looks like one, else a new one."""
    given = request.headers.get(HEADER, "")
    return given if _ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    """Give every request an id, a JSON log line and its count and time."""

    @app.before_request
    def started() -> None:
        g.started = time.perf_counter()
        g.request_id = request_id()
        logs.begin(request_id=g.request_id)

    @app.after_request
    def finished(response: Response) -> Response:
        endpoint = request.endpoint or "unknown"
        REQUESTS.labels(endpoint, str(response.status_code)).inc()
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        LATENCY.labels(endpoint).observe(seconds)
        response.headers[HEADER] = g.get("request_id") or request_id()
        log.info(
            "request",
            extra={
                "method": request.method,
                "endpoint": endpoint,
                "status": response.status_code,
                "ms": round(seconds * 1000, 1),
            },
        )
        return response

    @app.teardown_request
    def forget(_error: BaseException | None) -> None:
        logs.begin()  # the thread's next lines belong to no request
