"""`/ops`, the operator page: on only when HERALD_OPS_TOKEN is set, behind that token."""

from __future__ import annotations

import hashlib
import hmac
from importlib import resources

from flask import Blueprint, Response, abort, redirect, request

from api.http.requests import services
from shared.infra.db import autocommit
from shared.infra.errors import HeraldError, Unauthorized
from shared.infra.models import utcnow
from shared.operations.activity import LatencyWindow, oldest_waiting, per_minute
from shared.operations.metrics import host_registry
from shared.operations.queues import dead_letters, describe, queue_depths, requeue, select_letters

bp = Blueprint("ops_page", __name__)

COOKIE = "herald_ops"
SESSION_DAYS = 7
# Provider latency over the last hour, from the sends of every process of the host (the worker
# processes send), differenced against the oldest snapshot this process took.
LATENCY = LatencyWindow(host_registry())


def _token() -> str:
    """The operator token; without one the page does not exist."""
    token = services().settings.ops_token
    if not token:
        abort(404)
    return token


def _session_value(token: str) -> str:
    """The cookie's value: derived from the token, so the cookie never holds the token."""
    return hmac.new(token.encode(), b"herald ops session", hashlib.sha256).hexdigest()


def _signed_in(token: str) -> bool:
    """A bearer token or a session cookie, each compared in constant time."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), _session_value(token).encode())


def _require() -> None:
    """401 for a JSON call without the token."""
    token = _token()
    if not _signed_in(token):
        missing = "Authorization" not in request.headers and COOKIE not in request.cookies
        code = "auth/missing" if missing else "auth/invalid"
        raise Unauthorized(code, "Sign in to /ops with the operator token first.")


def _page(name: str, status: int = 200, **slots: str) -> Response:
    """One of the page's HTML files, with its slots filled."""
    html = resources.files("api").joinpath(f"static/ops/{name}").read_text(encoding="utf-8")
    for slot, value in slots.items():
        html = html.replace("{{" + slot + "}}", value)
    return Response(html, status, mimetype="text/html")


@bp.get("/ops")
def page():
    """The dashboard, or the sign-in form."""
    if not _signed_in(_token()):
        return _page("login.html", 200, error="")
    return _page("index.html")


@bp.post("/ops/login")
def login():
    """Check the token from the form; a session cookie on success."""
    token = _token()
    given = request.form.get("token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return _page("login.html", 401, error="That is not the operator token.")
    response = redirect("/ops", 303)
    response.set_cookie(
        COOKIE,
        _session_value(token),
        max_age=SESSION_DAYS * 86400,
        path="/ops",
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


@bp.get("/ops/data")
def data():
    """The page's figures as JSON."""
    _require()
    svc = services()
    now = utcnow()
    with autocommit(svc.engine) as connection:
        activity = per_minute(connection, now)
        waiting = oldest_waiting(connection, now)
    return {
        "now": now.isoformat(),
        "mode": "embedded" if svc.settings.embedded else "production",
        "queue": queue_depths(svc.broker),
        "activity": activity,
        "latency": LATENCY.read(),
        "oldestWaiting": waiting,
        "deadLetters": describe(svc.engine, dead_letters(svc.broker)[:100]),
    }


@bp.post("/ops/requeue")
def requeue_dead_letters():
    """Move dead letters back to the queue: all, or those of `messageId`."""
    _require()
    body = request.get_json(force=True, silent=True) or {}
    message_id = body.get("messageId") if isinstance(body, dict) else None
    if message_id is not None and not isinstance(message_id, str):
        raise HeraldError("messageId/invalid", "messageId must be a string.")
    svc = services()
    letters = select_letters(svc.engine, svc.broker, message_id)
    return {"ok": True, "requeued": requeue(svc.broker, letters)}
