"""Request budgets (SPEC §2): token buckets (`buckets/`) shared by every web process, in Redis
in production and in memory in the embedded mode. The backend API has a bucket per project,
the frontend API one per user of a project.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from shared.infra.config import Settings
from shared.infra.errors import HeraldError, NotFound, RateLimited
from shared.infra.models import projects
from shared.tenancy.buckets.base import Buckets, Budget, Decision
from shared.tenancy.buckets.memory import MemoryBuckets
from shared.tenancy.buckets.redis import RedisBuckets


def build_buckets(settings: Settings) -> Buckets:
    """The buckets of the mode, picked once when the app starts: in memory when embedded, in
    Redis otherwise."""
    if settings.embedded:
        return MemoryBuckets()
    return RedisBuckets(settings.redis_url, settings.redis_namespace)


def project_budget(connection: Connection, project_id: str, settings: Settings) -> Budget:
    """The project's backend API budget: its own, or the configured default."""
    row = connection.execute(
        select(projects.c.rate_limit, projects.c.rate_burst).where(projects.c.id == project_id)
    ).first()
    rate = row.rate_limit if row is not None and row.rate_limit else settings.rate_limit
    burst = row.rate_burst if row is not None and row.rate_burst else settings.rate_burst
    return Budget(float(rate), int(burst))


def set_project_budget(connection: Connection, project_id: str, budget: Budget) -> None:
    """Store a project's budget (`herald limits set`)."""
    if budget.rate <= 0 or budget.burst < 1:
        raise HeraldError("limits/invalid", "The rate must be above 0 and the burst at least 1.")
    changed = connection.execute(
        update(projects)
        .where(projects.c.id == project_id)
        .values(rate_limit=budget.rate, rate_burst=budget.burst)
    ).rowcount
    if not changed:
        raise NotFound("project/notFound", f"No project with id {project_id!r}.")


def take_front(buckets: Buckets, settings: Settings, project_id: str, user_id: str) -> Decision:
    """One frontend API request of a user: its own, smaller budget."""
    budget = Budget(settings.front_rate_limit, settings.front_rate_burst)
    return buckets.take(f"front:{project_id}:{user_id}", budget)


def refused(decision: Decision) -> RateLimited:
    """The error of a refused request (a 429 at the API)."""
    return RateLimited(
        "rateLimit/exceeded",
        f"Too many requests: the budget is {decision.limit} at once; "
        f"retry in {decision.retry_after} s.",
    )
