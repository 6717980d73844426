"""widget secret rotation, and room for sealed secrets

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A sealed secret (a Fernet token) is longer than the 64 hex digits of a plain one. SQLite
    # does not enforce a VARCHAR's length, and changing it there would rebuild `projects`,
    # whose rows other tables reference with ON DELETE CASCADE: PostgreSQL only.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "projects",
            "widget_secret",
            type_=sa.String(512),
            existing_type=sa.String(128),
            existing_nullable=False,
        )
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("previous_widget_secret", sa.String(512), nullable=True))
        batch.add_column(
            sa.Column(
                "previous_widget_secret_expires_at", sa.DateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("previous_widget_secret_expires_at")
        batch.drop_column("previous_widget_secret")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "projects",
            "widget_secret",
            type_=sa.String(128),
            existing_type=sa.String(512),
            existing_nullable=False,
        )
