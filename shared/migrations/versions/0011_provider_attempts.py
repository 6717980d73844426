"""the provider that took each channel, and every provider attempt (SPEC §8)

Revision ID: 0011
Revises: 0009 (to be re-chained on 0010, project_providers, at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

PROVIDER_CHANNELS = ("email", "sms")  # the channels shared.channels sends through a provider


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        for channel in PROVIDER_CHANNELS:
            batch.add_column(sa.Column(f"{channel}_provider", sa.String(64), nullable=True))
    op.create_table(
        "message_attempts",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "message_pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("messages.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_message_attempts_message", "message_attempts", ["message_pk"])


def downgrade() -> None:
    op.drop_index("ix_message_attempts_message", table_name="message_attempts")
    op.drop_table("message_attempts")
    with op.batch_alter_table("messages") as batch:
        for channel in reversed(PROVIDER_CHANNELS):
            batch.drop_column(f"{channel}_provider")
