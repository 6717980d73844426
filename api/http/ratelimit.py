"""The request budgets of the APIs: a project's on the backend API, a user's on the frontend
API, and the RateLimit-* headers on every answer that spent from one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, Response, current_app, g

from api.http.auth import current_project
from api.http.requests import services
from shared.infra.db import autocommit
from shared.infra.errors import RateLimited
from shared.tenancy.ratelimit import (
    Buckets,
    Budget,
    Decision,
    build_buckets,
    project_budget,
    refused,
    take_front,
)

BUDGET_CACHE_SECONDS = 5.0  # how soon `herald limits set` reaches a running web process


@dataclass
class Limits:
    """The app's buckets, and each project's budget as last read with the time it expires."""

    buckets: Buckets
    budgets: dict[str, tuple[float, Budget]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: dict[str, int] = field(default_factory=dict)  # sends of a project waiting now


def init_app(app: Flask) -> None:
    """Create the app's buckets and add the headers to every answer."""
    app.extensions["herald_limits"] = Limits(build_buckets(app.extensions["herald"]["settings"]))
    app.after_request(add_headers)


def _limits() -> Limits:
    return current_app.extensions["herald_limits"]


def limit_project() -> None:
    """Take one request from the project's bucket, or answer 429 (after authentication)."""
    project_id = current_project().id
    _spend(_limits().buckets.take(f"project:{project_id}", _budget(project_id)))


def check_front_limit(project_id: str, user_id: str) -> None:
    """Take one frontend API request from this user's bucket, or answer 429."""
    _spend(take_front(_limits().buckets, services().settings, project_id, user_id))


def limit_sign_in(address: str, per_minute: int) -> None:
    """Take one operator sign-in attempt of this client address from its bucket, or answer 429."""
    budget = Budget(per_minute / 60, per_minute)
    _spend(_limits().buckets.take(f"ops-sign-in:{address}", budget))


def _spend(decision: Decision) -> None:
    g.rate_limit = decision
    if not decision.allowed:
        raise refused(decision)


def _budget(project_id: str) -> Budget:
    """The project's budget, read again at most every few seconds."""
    limits = _limits()
    cached = limits.budgets.get(project_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    held = services()
    with autocommit(held.engine) as connection:
        budget = project_budget(connection, project_id, held.settings)
    with limits.lock:
        limits.budgets[project_id] = (time.monotonic() + BUDGET_CACHE_SECONDS, budget)
    return budget


@contextmanager
def send_slot(project_id: str) -> Iterator[None]:
    """Hold one of the project's `HERALD_PROJECT_SENDS` places for a send waiting for its
    results in this process, or answer 429: one project can't hold every web thread."""
    limits, bound = _limits(), services().settings.project_sends
    with limits.lock:
        waiting = limits.waiting.get(project_id, 0)
        if waiting >= bound:
            g.retry_after = 1
            raise RateLimited(
                "rateLimit/exceeded",
                f"This project already has {bound} sends waiting for their results; "
                "retry in 1 s, or send more messages in each batch.",
            )
        limits.waiting[project_id] = waiting + 1
    try:
        yield
    finally:
        with limits.lock:
            left = limits.waiting[project_id] - 1
            if left:
                limits.waiting[project_id] = left
            else:
                del limits.waiting[project_id]


def add_headers(response: Response) -> Response:
    """RateLimit-Limit, -Remaining, -Reset (and Retry-After on a 429) on a budgeted answer."""
    decision = g.get("rate_limit")
    if decision is not None:
        response.headers.update(decision.headers())
    if g.get("retry_after") is not None:
        response.headers["Retry-After"] = str(g.retry_after)
    return response
