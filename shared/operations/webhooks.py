"""The operator page's view of outbound webhooks (SPEC §9): the endpoints Herald turned off
(`gone`: a 410; `failing`: every attempt failed for the disable time) and those failing now,
across every project, with the deliveries each has waiting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from shared.webhooks.tables import webhook_deliveries as D
from shared.webhooks.tables import webhooks as W

SHOWN = 50  # endpoints listed, the longest failing first


def webhook_health(connection: Connection, now: datetime) -> dict[str, Any]:
    """Counts of endpoints on, off by Herald and failing; the ones in trouble, listed."""
    counts = connection.execute(
        select(
            func.count().filter(W.c.enabled.is_(True)),
            func.count().filter(W.c.disabled.is_not(None)),
            func.count().filter(W.c.enabled.is_(True), W.c.failing_since.is_not(None)),
        )
    ).one()
    waiting = (
        select(func.count())
        .where(D.c.webhook_pk == W.c.pk, D.c.status == "pending")
        .scalar_subquery()
    )
    rows = connection.execute(
        select(W.c.project_id, W.c.id, W.c.url, W.c.enabled, W.c.disabled, W.c.failing_since)
        .add_columns(waiting.label("waiting"))
        .where(or_(W.c.disabled.is_not(None), W.c.failing_since.is_not(None)))
        .order_by(W.c.failing_since.asc(), W.c.pk)
        .limit(SHOWN)
    ).all()
    return {
        "enabled": counts[0],
        "disabled": counts[1],
        "failing": counts[2],
        "troubled": [_troubled(row, now) for row in rows],
    }


def _troubled(row, now: datetime) -> dict[str, Any]:
    since = row.failing_since
    return {
        "projectId": row.project_id,
        "id": row.id,
        "url": row.url,
        "state": row.disabled if row.disabled else ("failing" if row.enabled else "off"),
        "failingSince": since.isoformat() if since else None,
        "failingSeconds": (now - since).total_seconds() if since else None,
        "waiting": row.waiting,
    }
