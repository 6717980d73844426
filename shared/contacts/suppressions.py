"""Suppressed e-mail addresses: a project's addresses that bounced for good or complained."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, exists, func, select

from shared.infra.db import dialect_insert
from shared.infra.models import messages, suppressions, users, utcnow

SUPPRESSED = "userEmail/suppressed"


def suppress(connection: Connection, project_id: str, address: str, reason: str) -> bool:
    """Suppress an address for a project; False when it already was."""
    insert = dialect_insert(connection)
    statement = (
        insert(suppressions)
        .values(
            project_id=project_id,
            address=address.strip().lower(),
            reason=reason[:64],
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["project_id", "address"])
    )
    return connection.execute(statement).rowcount == 1


def email_suppressed() -> ColumnElement[bool]:
    """True when the e-mail of a message's user is suppressed for its project: a column for
    the worker's query that loads a message with its user."""
    return exists(
        select(suppressions.c.address).where(
            suppressions.c.project_id == messages.c.project_id,
            suppressions.c.address == func.lower(users.c.email),
        )
    ).label("email_suppressed")


def list_suppressions(connection: Connection, project_id: str) -> list[dict[str, Any]]:
    """The project's suppressed addresses, oldest first."""
    rows = connection.execute(
        select(suppressions)
        .where(suppressions.c.project_id == project_id)
        .order_by(suppressions.c.created_at, suppressions.c.address)
    )
    return [
        {"address": row.address, "reason": row.reason, "createdAt": row.created_at.isoformat()}
        for row in rows
    ]


def remove_suppression(connection: Connection, project_id: str, address: str) -> bool:
    """Let e-mail go to an address again; False when it was not suppressed."""
    statement = delete(suppressions).where(
        suppressions.c.project_id == project_id,
        suppressions.c.address == address.strip().lower(),
    )
    return connection.execute(statement).rowcount == 1
