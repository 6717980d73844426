"""Operations endpoints: health, readiness, Prometheus metrics, the OpenAPI spec and docs."""

from __future__ import annotations

import time
from importlib import resources

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text

from api.requests import services
from shared.broker import QUEUE, broker_reachable
from shared.errors import Unavailable

bp = Blueprint("ops", __name__)

REQUESTS = Counter("herald_http_requests_total", "HTTP requests.", ["endpoint", "status"])
LATENCY = Histogram("herald_http_request_seconds", "HTTP request time.", ["endpoint"])


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"ok": True}


@bp.get("/readyz")
def readyz():
    """The database and the broker answer."""
    svc = services()
    try:
        with svc.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001
        raise Unavailable("service/unavailable", "The database is unreachable.") from None
    if not broker_reachable(svc.broker):
        raise Unavailable("service/unavailable", "The broker (Redis) is unreachable.")
    return {"ok": True, "database": "up", "broker": "up", "queue": QUEUE}


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of this process."""
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of the API."""
    spec = resources.files("api").joinpath("static/openapi.json").read_text(encoding="utf-8")
    return Response(spec, mimetype="application/json")


@bp.get("/docs")
def docs():
    """A readable page of the API, built from the OpenAPI description."""
    page = resources.files("api").joinpath("static/docs.html").read_text(encoding="utf-8")
    return Response(page, mimetype="text/html")


def init_app(app: Flask) -> None:
    """Register the blueprint and the request metrics."""
    app.register_blueprint(bp)

    @app.before_request
    def started() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def measured(response):
        endpoint = request.endpoint or "unknown"
        REQUESTS.labels(endpoint, str(response.status_code)).inc()
        if "started" in g:
            LATENCY.labels(endpoint).observe(time.perf_counter() - g.started)
        return response
