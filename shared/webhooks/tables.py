"""The tables of outbound webhooks (SPEC §9): a project's endpoints, the events its messages'
changes wrote (the outbox, filled in the changes' own transactions), and each event's delivery
to each endpoint that wants it (its attempts, its next retry)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, text

from shared.infra.models import BigId, Json, UTCDateTime, metadata

webhooks = Table(
    "webhooks",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Json, nullable=False),  # ["*"] or a list of event types
    Column("description", Text),
    Column("enabled", Boolean, nullable=False),
    # `disabled`: why Herald turned it off (`gone`: a 410; `failing`: every attempt failed for
    # 5 days); NULL when it is on or the project turned it off.
    Column("disabled", String(16)),
    Column("secret", Text, nullable=False),  # sealed with HERALD_SECRET_KEY when it is set
    Column("old_secret", Text),  # the one before a rotation, signing too until old_secret_until
    Column("old_secret_until", UTCDateTime),
    Column("failing_since", UTCDateTime),  # the first failed attempt since the last success
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("uq_webhooks_project_id_id", "project_id", "id", unique=True),
)

# The outbox: one row per event, written in the transaction of the change that causes it (by
# a trigger for a message's channels, see triggers.py); `dispatched_at` once it has a delivery
# row per endpoint that wants it.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("project_id", String(40), nullable=False),
    Column("type", String(40), nullable=False),
    Column("data", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("dispatched_at", UTCDateTime),
    Index(
        "ix_webhook_events_undispatched",
        "pk",
        postgresql_where=text("dispatched_at IS NULL"),
        sqlite_where=text("dispatched_at IS NULL"),
    ),
    Index("ix_webhook_events_project_id_created_at", "project_id", "created_at"),
)

# One event to one endpoint: `pending` until a 2xx (`succeeded`) or the last retry (`failed`);
# `next_at` is when it is due, `enqueued_at` when its job was last enqueued.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("event_pk", BigId, ForeignKey("webhook_events.pk", ondelete="CASCADE"), nullable=False),
    Column("webhook_pk", BigId, ForeignKey("webhooks.pk", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_at", UTCDateTime),
    Column("enqueued_at", UTCDateTime),
    Column("status_code", Integer),
    Column("duration_ms", Integer),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("uq_webhook_deliveries_event_pk_webhook_pk", "event_pk", "webhook_pk", unique=True),
    Index("ix_webhook_deliveries_due", "status", "next_at"),
    Index("ix_webhook_deliveries_webhook_pk", "webhook_pk", "pk"),
)
