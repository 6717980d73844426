"""push: the channel's columns, the users' devices, each device's push, the webhook triggers

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.webhooks.triggers import create_statements, drop_statements

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BEFORE = ("email", "sms", "widget")
CHANNELS = ("email", "sms", "widget", "push")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("push_status", sa.String(16)))
        batch_op.add_column(sa.Column("push_detail", sa.Text()))
        batch_op.add_column(sa.Column("push_provider_id", sa.String(255)))
        batch_op.add_column(sa.Column("push_provider", sa.String(64)))
        batch_op.add_column(sa.Column("push_attempts", sa.JSON()))
        batch_op.add_column(sa.Column("push_override", Json))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("with_push", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("allow_mute_push", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "devices",
        sa.Column("pk", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("project_id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address", sa.String(2048), nullable=False),
        sa.Column("p256dh", sa.String(128)),
        sa.Column("auth", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("id", name="uq_devices_id"),
        sa.UniqueConstraint(
            "project_id", "user_id", "address", name="uq_devices_project_id_user_id_address"
        ),
    )
    op.create_table(
        "push_sends",
        sa.Column("message_pk", BigId, nullable=False),
        sa.Column("device_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("to", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("provider", sa.String(64)),
        sa.Column("provider_id", sa.String(255)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["messages.pk"],
            name="fk_push_sends_message_pk_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_pk", "device_id", name="pk_push_sends"),
    )
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(dialect, BEFORE) + create_statements(dialect, CHANNELS):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(dialect, CHANNELS) + create_statements(dialect, BEFORE):
        op.execute(statement)
    op.drop_table("push_sends")
    op.drop_table("devices")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("allow_mute_push")
        batch_op.drop_column("with_push")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for name in ("override", "attempts", "provider", "provider_id", "detail"):
            batch_op.drop_column(f"push_{name}")
        batch_op.drop_column("push_status")
