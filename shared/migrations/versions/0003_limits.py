"""project request budgets

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the project spends from the configured default budget (100/s, burst 200).
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("rate_limit", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rate_burst", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("rate_burst")
        batch.drop_column("rate_limit")
