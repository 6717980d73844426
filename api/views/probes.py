"""What the platform polls: liveness (`/healthz`), readiness (`/readyz`) and the Prometheus
metrics (`/metrics`)."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from api.http.requests import services
from shared.infra.broker import QUEUE, broker_reachable
from shared.infra.errors import Unavailable
from shared.operations.metrics import exposition
from shared.providers.circuit import circuit_states

bp = Blueprint("probes", __name__)


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
    """Prometheus metrics of every Herald process on this host, the queue's depth and the
    default providers' circuits."""
    svc = services()
    text = exposition(svc.broker, lambda: circuit_states(svc.settings))
    return Response(text, mimetype=CONTENT_TYPE_LATEST)
