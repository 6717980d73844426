"""The outbox's way out (SPEC §9): each event fanned out to a delivery row per endpoint that
wants it, the deliveries that are due picked for a post, and what a post came to recorded.

One rule picks what is due, and it is both the retry schedule and the sweeper: a pending
delivery whose `next_at` has come and whose job was not enqueued since (`enqueued_at` before
`next_at`), or whose job was enqueued so long ago that it must have been lost (with Redis, or
with a worker killed during the post). A job still waiting is never enqueued twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.webhooks.events import wants
from shared.webhooks.tables import webhook_deliveries, webhook_events, webhooks

FAN_OUT = 500  # events fanned out a pass
FAILING_SLOTS = 2  # posts in flight to failing endpoints, all of them together
D, E, W = webhook_deliveries, webhook_events, webhooks


def _insert(connection: Connection):
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(D).on_conflict_do_nothing(index_elements=["event_pk", "webhook_pk"])


def fan_out(connection: Connection, now: datetime) -> int:
    """One pass in one transaction: up to FAN_OUT undispatched events get their delivery rows
    and are marked dispatched. Concurrent passes on PostgreSQL skip each other's events."""
    query = (
        select(E.c.pk, E.c.project_id, E.c.type)
        .where(E.c.dispatched_at.is_(None))
        .order_by(E.c.pk)
        .limit(FAN_OUT)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    events = connection.execute(query).all()
    if not events:
        return 0
    projects = {event.project_id for event in events}
    endpoints = connection.execute(
        select(W.c.pk, W.c.project_id, W.c.events).where(
            W.c.project_id.in_(projects), W.c.enabled.is_(True)
        )
    ).all()
    rows = [
        {
            "event_pk": event.pk,
            "webhook_pk": endpoint.pk,
            "status": "pending",
            "attempts": 0,
            "next_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for event in events
        for endpoint in endpoints
        if endpoint.project_id == event.project_id and wants(endpoint.events, event.type)
    ]
    if rows:
        connection.execute(_insert(connection), rows)
    pks = [event.pk for event in events]
    connection.execute(update(E).where(E.c.pk.in_(pks)).values(dispatched_at=now))
    return len(events)


def take_due(
    connection: Connection,
    now: datetime,
    lost_after: float,
    per_endpoint: int,
    failing_slots: int = FAILING_SLOTS,
    most: int = 200,
) -> list[int]:
    """The deliveries to enqueue now, marked enqueued: due ones of enabled endpoints, at most
    `per_endpoint` in flight for each endpoint (a job enqueued and not finished counts). An
    endpoint failing since its last success gets one post in flight, and all of those together
    at most `failing_slots`, so that dead endpoints, however many, leave the rest of the
    posting threads to the endpoints that answer."""
    lost = now - timedelta(seconds=lost_after)
    not_waiting = or_(
        D.c.enqueued_at.is_(None), D.c.enqueued_at < D.c.next_at, D.c.enqueued_at < lost
    )
    failing = W.c.failing_since.is_not(None).label("failing")
    in_flight, failing_total = _in_flight(connection, lost, failing)
    query = (
        select(D.c.pk, D.c.webhook_pk, failing)
        .join(W, W.c.pk == D.c.webhook_pk)
        .where(D.c.status == "pending", D.c.next_at <= now, not_waiting, W.c.enabled.is_(True))
        .order_by(D.c.next_at, D.c.pk)
        .limit(most)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(of=D, skip_locked=True)
    taken = []
    for pk, webhook_pk, is_failing in connection.execute(query).all():
        cap = 1 if is_failing else per_endpoint
        if in_flight.get(webhook_pk, 0) >= cap or (is_failing and failing_total >= failing_slots):
            continue
        in_flight[webhook_pk] = in_flight.get(webhook_pk, 0) + 1
        failing_total += bool(is_failing)
        taken.append(pk)
    if taken:
        connection.execute(update(D).where(D.c.pk.in_(taken)).values(enqueued_at=now))
    return taken


def _in_flight(connection: Connection, lost: datetime, failing) -> tuple[dict[int, int], int]:
    """Posts enqueued and not finished: by endpoint, and to failing endpoints in all."""
    flying = connection.execute(
        select(D.c.webhook_pk, func.count(), failing)
        .join(W, W.c.pk == D.c.webhook_pk)
        .where(D.c.status == "pending", D.c.enqueued_at >= D.c.next_at, D.c.enqueued_at >= lost)
        .group_by(D.c.webhook_pk, failing)
    ).all()
    in_flight = {webhook_pk: count for webhook_pk, count, _ in flying}
    return in_flight, sum(count for _, count, is_failing in flying if is_failing)


def load_delivery(connection: Connection, delivery_pk: int):
    """A pending delivery with its event and endpoint (None when it is not pending any more,
    or its endpoint is gone or off)."""
    return connection.execute(
        select(
            D.c.pk,
            D.c.attempts,
            E.c.id.label("event_id"),
            E.c.type,
            E.c.data,
            E.c.created_at.label("event_at"),
            W.c.pk.label("webhook_pk"),
            W.c.url,
            W.c.secret,
            W.c.old_secret,
            W.c.old_secret_until,
            W.c.failing_since,
        )
        .join(E, E.c.pk == D.c.event_pk)
        .join(W, W.c.pk == D.c.webhook_pk)
        .where(D.c.pk == delivery_pk, D.c.status == "pending", W.c.enabled.is_(True))
    ).first()


def record_post(connection: Connection, row, posted, now: datetime, settings) -> str:
    """What a post came to, on the delivery and its endpoint: the delivery's new status."""
    attempts = row.attempts + 1
    values = {
        "attempts": attempts,
        "status_code": posted.status_code,
        "duration_ms": posted.duration_ms,
        "error": posted.error,
        "updated_at": now,
    }
    if posted.ok:
        values |= {"status": "succeeded", "next_at": None}
        endpoint = {"failing_since": None}
    else:
        retries = settings.webhook_retries
        due = now + timedelta(seconds=retries[attempts - 1]) if attempts <= len(retries) else None
        values |= {"status": "pending" if due else "failed", "next_at": due}
        since = row.failing_since or now
        endpoint = {"failing_since": since}
        if posted.status_code == 410:
            values |= {"status": "failed", "next_at": None}
            endpoint |= {"enabled": False, "disabled": "gone"}
        elif (now - since).total_seconds() >= settings.webhook_disable_after:
            endpoint |= {"enabled": False, "disabled": "failing"}
    connection.execute(update(D).where(D.c.pk == row.pk).values(**values))
    if not posted.ok or row.failing_since is not None:  # a success of a healthy one: as it was
        connection.execute(
            update(W).where(W.c.pk == row.webhook_pk).values(**endpoint, updated_at=now)
        )
    return values["status"]


def take_next(connection: Connection, webhook_pk: int, now: datetime, lost_after: float):
    """The next due delivery of this endpoint, marked enqueued, for the job whose post to it
    just succeeded to post in the same slot (None when there is none): a fast receiver's
    backlog goes without a job and a pump pass an event."""
    lost = now - timedelta(seconds=lost_after)
    not_waiting = or_(
        D.c.enqueued_at.is_(None), D.c.enqueued_at < D.c.next_at, D.c.enqueued_at < lost
    )
    query = (
        select(D.c.pk)
        .where(
            D.c.webhook_pk == webhook_pk,
            D.c.status == "pending",
            D.c.next_at <= now,
            not_waiting,
        )
        .order_by(D.c.next_at, D.c.pk)
        .limit(1)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    pk = connection.execute(query).scalar()
    if pk is not None:
        connection.execute(update(D).where(D.c.pk == pk).values(enqueued_at=now))
    return pk


__all__ = ["fan_out", "load_delivery", "record_post", "take_due", "take_next"]
