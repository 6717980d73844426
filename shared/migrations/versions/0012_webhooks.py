"""outbound webhooks: endpoints, the event outbox and its triggers, deliveries

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.webhooks.triggers import create_statements, drop_statements

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CHANNELS = ("email", "sms", "widget")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(40), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", Json, nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.String(16)),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("old_secret", sa.Text()),
        sa.Column("old_secret_until", Stamp),
        sa.Column("failing_since", Stamp),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_webhooks_project_id_projects",
            ondelete="CASCADE",
        ),
    )
    op.create_index("uq_webhooks_project_id_id", "webhooks", ["project_id", "id"], unique=True)
    op.create_table(
        "webhook_events",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("project_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("dispatched_at", Stamp),
    )
    undispatched = sa.text("dispatched_at IS NULL")
    op.create_index(
        "ix_webhook_events_undispatched",
        "webhook_events",
        ["pk"],
        postgresql_where=undispatched,
        sqlite_where=undispatched,
    )
    op.create_index(
        "ix_webhook_events_project_id_created_at", "webhook_events", ["project_id", "created_at"]
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_pk", BigId, nullable=False),
        sa.Column("webhook_pk", BigId, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", Stamp),
        sa.Column("enqueued_at", Stamp),
        sa.Column("status_code", sa.Integer()),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_pk"],
            ["webhook_events.pk"],
            name="fk_webhook_deliveries_event_pk_webhook_events",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_pk"],
            ["webhooks.pk"],
            name="fk_webhook_deliveries_webhook_pk_webhooks",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "uq_webhook_deliveries_event_pk_webhook_pk",
        "webhook_deliveries",
        ["event_pk", "webhook_pk"],
        unique=True,
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_at"])
    op.create_index("ix_webhook_deliveries_webhook_pk", "webhook_deliveries", ["webhook_pk", "pk"])
    for statement in create_statements(op.get_bind().dialect.name, CHANNELS):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name, CHANNELS):
        op.execute(statement)
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhooks")
