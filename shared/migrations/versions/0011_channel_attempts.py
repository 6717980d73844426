"""each channel's provider and attempts

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CHANNELS = ("email", "sms", "widget")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for channel in CHANNELS:
            batch_op.add_column(sa.Column(f"{channel}_provider", sa.String(64)))
            batch_op.add_column(sa.Column(f"{channel}_attempts", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        for channel in CHANNELS:
            batch_op.drop_column(f"{channel}_attempts")
            batch_op.drop_column(f"{channel}_provider")
