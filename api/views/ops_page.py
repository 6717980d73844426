"""`/ops`, the operator page: on only when HERALD_OPS_TOKEN is set, behind that token."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, redirect, request

from api.http.ops_auth import check_token, require_operator, start_session
from api.http.requests import json_body, require_json, services
from shared.infra.db import autocommit
from shared.infra.errors import HeraldError, RateLimited, Unauthorized
from shared.infra.models import utcnow
from shared.operations.activity import LatencyWindow, oldest_waiting, per_minute
from shared.operations.metrics import host_registry
from shared.operations.queues import dead_letters, describe, queue_depths, requeue, select_letters
from shared.operations.webhooks import webhook_health
from shared.providers.circuit import provider_health

bp = Blueprint("ops_page", __name__)

# Provider latency over the last hour, from the sends of every process of the host (the worker
# processes send), differenced against the oldest snapshot this process took.
LATENCY = LatencyWindow(host_registry())


def _page(name: str, status: int = 200, **slots: str) -> Response:
    """One of the page's HTML files, with its slots filled."""
    html = resources.files("api").joinpath(f"static/ops/{name}").read_text(encoding="utf-8")
    for slot, value in slots.items():
        html = html.replace("{{" + slot + "}}", value)
    return Response(html, status, mimetype="text/html")


@bp.get("/ops")
def page():
    """The dashboard, or the sign-in form (saying so when the session expired)."""
    try:
        require_operator()
    except Unauthorized as refused:
        shown = refused.message if refused.code == "auth/expired" else ""
        return _page("login.html", 200, error=shown)
    return _page("index.html")


@bp.post("/ops/login")
def login():
    """Check the token from the form; a session cookie on success."""
    try:
        token = check_token(request.form.get("token", ""))
    except (Unauthorized, RateLimited) as refused:
        status = 429 if isinstance(refused, RateLimited) else 401
        return _page("login.html", status, error=refused.message)
    return start_session(redirect("/ops", 303), token)


@bp.get("/ops/data")
def data():
    """The page's figures as JSON."""
    require_operator()
    svc = services()
    now = utcnow()
    with autocommit(svc.engine) as connection:
        activity = per_minute(connection, now)
        waiting = oldest_waiting(connection, now)
        hooks = webhook_health(connection, now)
    return {
        "now": now.isoformat(),
        "mode": "embedded" if svc.settings.embedded else "production",
        "queue": queue_depths(svc.broker),
        "activity": activity,
        "latency": LATENCY.read(),
        "providers": provider_health(svc.settings),
        "webhooks": hooks,
        "oldestWaiting": waiting,
        "deadLetters": describe(svc.engine, dead_letters(svc.broker)[:100]),
    }


@bp.post("/ops/requeue")
def requeue_dead_letters():
    """Move dead letters back to the queue: all, or those of `messageId`."""
    require_operator()
    require_json()  # a form or text/plain POST could come from another site, with the cookie
    message_id = json_body(optional=True).get("messageId")
    if message_id is not None and not isinstance(message_id, str):
        raise HeraldError("messageId/invalid", "messageId must be a string.")
    svc = services()
    letters = select_letters(svc.engine, svc.broker, message_id)
    return {"ok": True, "requeued": requeue(svc.broker, letters)}
