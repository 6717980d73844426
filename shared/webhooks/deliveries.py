"""An endpoint's deliveries as `webhooks.deliveries` shows them (newest first, cursor-paged),
and `webhooks.test`: a `webhook.test` event posted to one endpoint at once, its attempt kept
with the others."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from shared.infra.db import transaction
from shared.infra.errors import HeraldError, not_found
from shared.infra.models import utcnow
from shared.webhooks.addresses import target
from shared.webhooks.endpoints import signing_secrets
from shared.webhooks.events import event_body, record_event
from shared.webhooks.posting import encode, post_event
from shared.webhooks.tables import webhook_deliveries, webhook_events, webhooks

STATUSES = ("pending", "succeeded", "failed")
MAX_PAGE = 100
TEST_EVENT = "webhook.test"


def _bad_cursor() -> HeraldError:
    return HeraldError(
        "cursor/invalid",
        "cursor must be the nextCursor of an earlier page of this endpoint's deliveries.",
    )


def next_cursor(event_id: str) -> str:
    """The `nextCursor` of a page ending with the delivery of this event: its id, base64url."""
    return base64.urlsafe_b64encode(event_id.encode()).decode().rstrip("=")


def _cursor(raw: str | None) -> str | None:
    """The event id a `nextCursor` names, or `cursor/invalid`."""
    if not raw:
        return None
    if not raw.isascii() or len(raw) > 200:
        raise _bad_cursor()
    try:
        event_id = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not event_id.isascii() or not event_id.isprintable() or next_cursor(event_id) != raw:
        raise _bad_cursor()
    return event_id


@dataclass(frozen=True)
class DeliveryFilter:
    """Which deliveries of an endpoint a page shows: `limit` below `cursor`, of one status."""

    limit: int = 20
    cursor: str | None = None
    status: str | None = None

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> DeliveryFilter:
        raw = args.get("limit", "20")
        if not (raw.isascii() and raw.isdigit() and len(raw) < 4 and 1 <= int(raw) <= MAX_PAGE):
            message = f"limit must be a whole number from 1 to {MAX_PAGE}."
            raise HeraldError("limit/invalid", message)
        status = args.get("status") or None
        if status is not None and status not in STATUSES:
            raise HeraldError("status/invalid", f"status must be one of {', '.join(STATUSES)}.")
        return cls(int(raw), _cursor(args.get("cursor")), status)


def endpoint_row(connection: Connection, project_id: str, webhook_id: str):
    """The project's endpoint of this id, or `webhook/notFound` (another project's too)."""
    row = connection.execute(
        select(webhooks).where(webhooks.c.project_id == project_id, webhooks.c.id == webhook_id)
    ).first()
    if row is None:
        raise not_found("webhook", webhook_id)
    return row


def delivery_json(row) -> dict[str, Any]:
    """One delivery (one event to this endpoint) as the API shows it."""
    pending = row.status == "pending"
    return {
        "eventId": row.event_id,
        "type": row.type,
        "status": row.status,
        "attempts": row.attempts,
        "statusCode": row.status_code,
        "durationMs": row.duration_ms,
        "error": row.error,
        "nextRetryAt": row.next_at.isoformat() if pending and row.next_at else None,
        "createdAt": row.created_at.isoformat(),
    }


def list_deliveries(
    connection: Connection, project_id: str, webhook_id: str, wanted: DeliveryFilter
) -> dict[str, Any]:
    """A page of the endpoint's deliveries, newest first, and the next page's cursor."""
    endpoint = endpoint_row(connection, project_id, webhook_id)
    d, e = webhook_deliveries, webhook_events
    query = (
        select(d, e.c.id.label("event_id"), e.c.type)
        .join(e, e.c.pk == d.c.event_pk)
        .where(d.c.webhook_pk == endpoint.pk)
    )
    if wanted.status:
        query = query.where(d.c.status == wanted.status)
    if wanted.cursor is not None:
        after = connection.scalar(
            select(d.c.pk)
            .join(e, e.c.pk == d.c.event_pk)
            .where(d.c.webhook_pk == endpoint.pk, e.c.id == wanted.cursor)
        )
        if after is None:
            raise _bad_cursor()
        query = query.where(d.c.pk < after)
    rows = connection.execute(query.order_by(d.c.pk.desc()).limit(wanted.limit + 1)).all()
    more = len(rows) > wanted.limit
    rows = rows[: wanted.limit]
    return {
        "deliveries": [delivery_json(row) for row in rows],
        "nextCursor": next_cursor(rows[-1].event_id) if more else None,
    }


def _record_test(engine: Engine, project_id: str, webhook_id: str):
    """The `webhook.test` event and its delivery to the endpoint, committed before the post:
    dispatched already and due never, so no job posts it besides this one. (endpoint row,
    event row, delivery pk)"""
    with transaction(engine) as connection:
        endpoint = endpoint_row(connection, project_id, webhook_id)
        event_id = record_event(connection, project_id, TEST_EVENT, {"webhookId": webhook_id})
        now = utcnow()
        event = connection.execute(
            update(webhook_events)
            .where(webhook_events.c.id == event_id)
            .values(dispatched_at=now)
            .returning(*webhook_events.c)
        ).one()
        delivery_pk = connection.execute(
            insert(webhook_deliveries)
            .values(event_pk=event.pk, webhook_pk=endpoint.pk, status="pending", attempts=0)
            .values(next_at=None, enqueued_at=now, created_at=now, updated_at=now)
            .returning(webhook_deliveries.c.pk)
        ).scalar_one()
    return endpoint, event, delivery_pk


def send_test(engine: Engine, settings, project_id: str, webhook_id: str) -> dict[str, Any]:
    """Post a `webhook.test` event to the endpoint now (its address checked again first) and
    keep the attempt; `webhooks.test`'s answer."""
    endpoint, event, delivery_pk = _record_test(engine, project_id, webhook_id)
    try:
        checked = target(endpoint.url, settings.webhooks_allow_private)
    except HeraldError as refused:
        status_code, duration_ms, error = None, 0, f"{refused.code}: {refused.message}"
    else:
        body = encode(event_body(event.type, event.created_at, event.data))
        secrets = signing_secrets(endpoint, settings.secret_keys, utcnow())
        posted = post_event(checked, event.id, body, secrets, settings.webhook_timeout)
        status_code, duration_ms, error = posted.status_code, posted.duration_ms, posted.error
    ok = status_code is not None and 200 <= status_code < 300
    with transaction(engine) as connection:
        connection.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.pk == delivery_pk)
            .values(status="succeeded" if ok else "failed", attempts=1, status_code=status_code)
            .values(duration_ms=duration_ms, error=error, updated_at=utcnow())
        )
    answer = {"eventId": event.id, "ok": ok, "statusCode": status_code, "durationMs": duration_ms}
    return answer | ({"error": error} if error else {})
