"""allowed senders per project

Revision ID: 0007
Revises: 0006
"""

import contextlib
from datetime import UTC, datetime

import idna
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "allowed_senders",
        sa.Column("project_id", sa.String(40), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_allowed_senders_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "sender", name="pk_allowed_senders"),
    )
    # Existing projects keep sending from their default From: it becomes an allowed sender.
    # Stored in the compared form of `shared.tenancy.senders.sender_form` (as it is today).
    connection = op.get_bind()
    projects = sa.table("projects", sa.column("id"), sa.column("email_from"))
    rows = connection.execute(
        sa.select(projects.c.id, projects.c.email_from).where(projects.c.email_from.is_not(None))
    ).all()
    now = datetime.now(UTC).replace(tzinfo=None) if connection.dialect.name == "sqlite" else None
    now = now or datetime.now(UTC)
    if rows:
        op.bulk_insert(
            table,
            [
                {"project_id": row.id, "sender": _sender_form(row.email_from), "created_at": now}
                for row in rows
            ],
        )


def _sender_form(address: str) -> str:
    """The compared form of a stored address: its domain in IDNA ASCII, all lower case."""
    local, _, domain = address.rpartition("@")
    with contextlib.suppress(idna.IDNAError):
        domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}@{domain}".lower()


def downgrade() -> None:
    op.drop_table("allowed_senders")
