"""Operations endpoints: health, readiness, Prometheus metrics, the OpenAPI spec and docs."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from api.http.requests import services
from shared.infra.broker import QUEUE, broker_reachable
from shared.infra.errors import Unavailable
from shared.operations.metrics import exposition

bp = Blueprint("ops", __name__)


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
    """Prometheus metrics of every Herald process on this host, and the queue's depth."""
    return Response(exposition(services().broker), mimetype=CONTENT_TYPE_LATEST)


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
    """Register the blueprint."""
    app.register_blueprint(bp)
