"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.infra.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_ids",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_message_ids")),
    )
    op.create_table(
        "messages",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("notification_id", sa.String(length=128), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("increment_id", sa.String(length=128), nullable=True),
        sa.Column("increment", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("email_status", sa.String(length=16), nullable=True),
        sa.Column("email_detail", sa.Text(), nullable=True),
        sa.Column("email_provider_id", sa.String(length=255), nullable=True),
        sa.Column("sms_status", sa.String(length=16), nullable=True),
        sa.Column("sms_detail", sa.Text(), nullable=True),
        sa.Column("sms_provider_id", sa.String(length=255), nullable=True),
        sa.Column("widget_status", sa.String(length=16), nullable=True),
        sa.Column("widget_detail", sa.Text(), nullable=True),
        sa.Column("widget_provider_id", sa.String(length=255), nullable=True),
        sa.Column("widget_content", sa.Text(), nullable=True),
        sa.Column("widget_icon", sa.String(length=2048), nullable=True),
        sa.Column("widget_link", sa.String(length=2048), nullable=True),
        sa.Column(
            "widget_override",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "email_override",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("sending_since", UTCDateTime(), nullable=True),
        sa.Column("scheduled_at", UTCDateTime(), nullable=True),
        sa.Column("enqueued_at", UTCDateTime(), nullable=True),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("feed_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_messages")),
        sa.UniqueConstraint("project_id", "id", name=op.f("uq_messages_project_id_id")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_project_pk", ["project_id", "pk"], unique=False)
        batch_op.create_index("ix_messages_status_due", ["status", "scheduled_at"], unique=False)
        batch_op.create_index(
            "ix_messages_user_feed", ["project_id", "user_id", "feed_at"], unique=False
        )

    op.create_table(
        "notifications",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("with_widget", sa.Boolean(), nullable=False),
        sa.Column("with_email", sa.Boolean(), nullable=False),
        sa.Column("with_sms", sa.Boolean(), nullable=False),
        sa.Column("allow_mute_widget", sa.Boolean(), nullable=False),
        sa.Column("allow_mute_email", sa.Boolean(), nullable=False),
        sa.Column("allow_mute_sms", sa.Boolean(), nullable=False),
        sa.Column("default_language", sa.String(length=35), nullable=False),
        sa.Column("stack_timeout", sa.Integer(), nullable=False),
        sa.Column(
            "templates",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_notifications")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("widget_secret", sa.String(length=128), nullable=False),
        sa.Column("email_from", sa.String(length=320), nullable=True),
        sa.Column("email_from_name", sa.String(length=200), nullable=True),
        sa.Column("sms_sender_id", sa.String(length=11), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_table(
        "stacks",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("notification_id", sa.String(length=128), nullable=False),
        sa.Column("increment_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "user_id", "notification_id", "increment_id", name=op.f("pk_stacks")
        ),
    )
    op.create_table(
        "users",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("telephone", sa.String(length=20), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("photo_url", sa.String(length=2048), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "preferences",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_users")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_api_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("stacks")
    op.drop_table("projects")
    op.drop_table("notifications")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_user_feed")
        batch_op.drop_index("ix_messages_status_due")
        batch_op.drop_index("ix_messages_project_pk")

    op.drop_table("messages")
    op.drop_table("message_ids")
