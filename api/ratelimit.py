"""The request budgets of the APIs: a project's on the backend API, a user's on the frontend
API, and the RateLimit-* headers on every answer that spent from one."""

from __future__ import annotations

import threading
import time

from flask import Flask, Response, current_app, g

from api.auth import current_project
from api.requests import services
from shared.db import autocommit
from shared.ratelimit import Budget, Decision, build_buckets, project_budget, refused, take_front

BUDGET_CACHE_SECONDS = 5.0  # how soon `herald limits set` reaches a running web process


def init_app(app: Flask) -> None:
    """Create the app's buckets and add the headers to every answer."""
    herald = app.extensions["herald"]
    herald["buckets"] = build_buckets(herald["settings"])
    herald["budgets"] = {}
    herald["budgets_lock"] = threading.Lock()
    app.after_request(add_headers)


def limit_project() -> None:
    """Take one request from the project's bucket, or answer 429 (after authentication)."""
    project_id = current_project().id
    _spend(services()["buckets"].take(f"project:{project_id}", _budget(project_id)))


def check_front_limit(project_id: str, user_id: str) -> None:
    """Take one frontend API request from this user's bucket, or answer 429."""
    svc = services()
    _spend(take_front(svc["buckets"], svc["settings"], project_id, user_id))


def _spend(decision: Decision) -> None:
    g.rate_limit = decision
    if not decision.allowed:
        raise refused(decision)


def _budget(project_id: str) -> Budget:
    """The project's budget, read again at most every few seconds."""
    herald = current_app.extensions["herald"]
    cached = herald["budgets"].get(project_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    with autocommit(herald["engine"]) as connection:
        budget = project_budget(connection, project_id, herald["settings"])
    with herald["budgets_lock"]:
        herald["budgets"][project_id] = (time.monotonic() + BUDGET_CACHE_SECONDS, budget)
    return budget


def add_headers(response: Response) -> Response:
    """RateLimit-Limit, -Remaining, -Reset (and Retry-After on a 429) on a budgeted answer."""
    decision = g.get("rate_limit")
    if decision is not None:
        response.headers.update(decision.headers())
    return response
