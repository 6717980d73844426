"""delivery feedback: suppressions, messages by e-mail provider id

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from shared.infra.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "address", name=op.f("pk_suppressions")),
    )
    op.create_index(
        "ix_messages_email_provider_id", "messages", ["email_provider_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_messages_email_provider_id", table_name="messages")
    op.drop_table("suppressions")
