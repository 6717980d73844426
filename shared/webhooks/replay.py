"""`herald webhooks replay`: every event of a project since a time sent again to an endpoint
(or to each endpoint that wants it). Its delivery is set back to `pending`, due now and not
enqueued, its attempts kept; a missing one is created. The sweeper then enqueues them.

Events not yet dispatched are left out: the pump gives them their deliveries anyway, and
`webhook.test` events are never replayed (they belong to the test that made them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, exists, insert, literal, select, update

from shared.infra.models import utcnow
from shared.webhooks.deliveries import TEST_EVENT, endpoint_row
from shared.webhooks.events import ALL
from shared.webhooks.tables import webhook_deliveries, webhook_events, webhooks


def _events_for(endpoint, project_id: str, since: datetime):
    """The condition on webhook_events of the events to send again to this endpoint."""
    e = webhook_events
    condition = and_(
        e.c.project_id == project_id,
        e.c.created_at >= since,
        e.c.dispatched_at.is_not(None),
        e.c.type != TEST_EVENT,
    )
    if ALL not in endpoint.events:
        condition = and_(condition, e.c.type.in_(endpoint.events))
    return condition


def _replay_to(connection: Connection, endpoint, project_id: str, since: datetime) -> int:
    """Send again to one endpoint: deliveries reset, missing ones created; how many."""
    d, e, now = webhook_deliveries, webhook_events, utcnow()
    wanted = _events_for(endpoint, project_id, since)
    reset = connection.execute(
        update(d)
        .where(d.c.webhook_pk == endpoint.pk, d.c.event_pk.in_(select(e.c.pk).where(wanted)))
        .values(status="pending", next_at=now, enqueued_at=None, updated_at=now)
    ).rowcount
    missing = select(
        e.c.pk,
        literal(endpoint.pk),
        literal("pending"),
        literal(0),
        literal(now, d.c.next_at.type),
        literal(now, d.c.created_at.type),
        literal(now, d.c.updated_at.type),
    ).where(
        wanted,
        ~exists().where(d.c.event_pk == e.c.pk, d.c.webhook_pk == endpoint.pk),
    )
    columns = ["event_pk", "webhook_pk", "status", "attempts", "next_at", "created_at"]
    # Counted by RETURNING: psycopg's rowcount of an INSERT ... SELECT is -1.
    created = connection.execute(
        insert(d).from_select([*columns, "updated_at"], missing).returning(d.c.pk)
    ).all()
    return reset + len(created)


def replay(
    connection: Connection, project_id: str, since: datetime, webhook_id: str | None = None
) -> int:
    """Send again every event of the project since `since` to the named endpoint (whether on
    or not), or to each enabled one, where the endpoint wants it; the deliveries set pending."""
    if webhook_id is not None:
        endpoints = [endpoint_row(connection, project_id, webhook_id)]
    else:
        query = select(webhooks).where(webhooks.c.project_id == project_id, webhooks.c.enabled)
        endpoints = connection.execute(query.order_by(webhooks.c.pk)).all()
    return sum(_replay_to(connection, endpoint, project_id, since) for endpoint in endpoints)
