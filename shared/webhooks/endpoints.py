"""A project's webhook endpoints (SPEC §9): saved, listed, deleted, their secrets made and
rotated. A secret (`whsec_` + base64 of 24 random bytes) is shown when it is made and never
again; it is stored sealed with HERALD_SECRET_KEY when that is set. After a rotation the old
one signs too for `OLD_SECRET_HOURS` h, so a receiver can move to the new one."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from shared.infra.errors import HeraldError, not_found
from shared.infra.models import utcnow
from shared.infra.secrets import secret_box
from shared.webhooks.addresses import target
from shared.webhooks.events import ALL, EVENT_TYPES
from shared.webhooks.tables import webhooks

MAX_WEBHOOKS = 50  # endpoints a project may have
MAX_DESCRIPTION = 500
OLD_SECRET_HOURS = 24
SUBSCRIBABLE = frozenset(EVENT_TYPES) - {"webhook.test"}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def check_events(events: object) -> list[str]:
    """The events list as stored, or `events/invalid` / `events/unknown`."""
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise HeraldError("events/invalid", 'events must be ["*"] or a non-empty list of names.')
    unknown = sorted(set(events) - SUBSCRIBABLE - {ALL})
    if unknown:
        names = ", ".join(sorted(SUBSCRIBABLE))
        raise HeraldError("events/unknown", f"Unknown event {unknown[0]!r}; known: *, {names}.")
    return [ALL] if ALL in events else sorted(set(events))


def webhook_json(row, secret: str | None = None) -> dict[str, Any]:
    """An endpoint as the API shows it; `secret` only when it was just made."""
    out = {
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "description": row.description,
        "enabled": row.enabled,
        "createdAt": row.created_at.isoformat(),
    }
    if row.disabled:
        out["disabledReason"] = row.disabled
    if secret is not None:
        out["secret"] = secret
    return out


def _row(connection: Connection, project_id: str, webhook_id: str):
    row = connection.execute(
        select(webhooks).where(webhooks.c.project_id == project_id, webhooks.c.id == webhook_id)
    ).first()
    if row is None:
        raise not_found("webhook", webhook_id)
    return row


def upsert_webhook(
    connection: Connection,
    settings,
    project_id: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """Create an endpoint (no `id`, or an unknown one) or change one; `webhooks.upsert`'s
    answer. Saving an endpoint turns it on again unless `enabled` says otherwise."""
    allow = settings.webhooks_allow_private
    target(fields["url"], allow)  # refused before anything is stored
    values = {
        "url": fields["url"],
        "events": check_events(fields.get("events", [ALL])),
        "description": fields.get("description"),
        "enabled": fields.get("enabled", True),
        "disabled": None,
        "updated_at": utcnow(),
    }
    if values["description"] is not None and len(values["description"]) > MAX_DESCRIPTION:
        raise HeraldError("description/tooLong", f"description is over {MAX_DESCRIPTION} chars.")
    webhook_id = fields.get("id")
    if webhook_id is not None:
        exists = connection.execute(
            update(webhooks)
            .where(webhooks.c.project_id == project_id, webhooks.c.id == webhook_id)
            .values(**values, failing_since=None)
            .returning(*webhooks.c)
        ).first()
        if exists is not None:
            return {"webhook": webhook_json(exists)}
    return {"webhook": _create(connection, settings, project_id, webhook_id, values)}


def _create(connection, settings, project_id: str, webhook_id, values) -> dict[str, Any]:
    count = connection.scalar(
        select(func.count()).select_from(webhooks).where(webhooks.c.project_id == project_id)
    )
    if count >= MAX_WEBHOOKS:
        raise HeraldError(
            "webhooks/tooMany",
            f"A project has at most {MAX_WEBHOOKS} webhook endpoints; delete one first.",
        )
    secret = new_secret()
    row = connection.execute(
        insert(webhooks)
        .values(
            **values,
            project_id=project_id,
            id=webhook_id or "wh_" + secrets.token_hex(8),
            secret=secret_box(settings.secret_keys).seal(secret),
            created_at=values["updated_at"],
        )
        .returning(*webhooks.c)
    ).one()
    return webhook_json(row, secret)


def list_webhooks(connection: Connection, project_id: str) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(webhooks).where(webhooks.c.project_id == project_id).order_by(webhooks.c.pk)
    )
    return [webhook_json(row) for row in rows]


def failing_since(connection: Connection, project_id: str) -> dict[str, str | None]:
    """Each endpoint's first failed attempt since its last success (None when not failing)."""
    rows = connection.execute(
        select(webhooks.c.id, webhooks.c.failing_since).where(webhooks.c.project_id == project_id)
    )
    return {row.id: row.failing_since.isoformat() if row.failing_since else None for row in rows}


def delete_webhook(connection: Connection, project_id: str, webhook_id: str) -> None:
    gone = connection.execute(
        delete(webhooks).where(webhooks.c.project_id == project_id, webhooks.c.id == webhook_id)
    )
    if gone.rowcount == 0:
        raise not_found("webhook", webhook_id)


def rotate_secret(connection: Connection, settings, project_id: str, webhook_id: str) -> dict:
    """Make a new secret; the old one signs too for OLD_SECRET_HOURS h. The new secret."""
    row = _row(connection, project_id, webhook_id)
    secret, now = new_secret(), utcnow()
    connection.execute(
        update(webhooks)
        .where(webhooks.c.pk == row.pk)
        .values(
            secret=secret_box(settings.secret_keys).seal(secret),
            old_secret=row.secret,
            old_secret_until=now + timedelta(hours=OLD_SECRET_HOURS),
            updated_at=now,
        )
    )
    return {"webhook": webhook_json(_row(connection, project_id, webhook_id), secret)}


def signing_secrets(row, keys: tuple[str, ...], now) -> list[str]:
    """The secrets that sign a post to this endpoint now: the current one, and the one before
    a rotation while it lasts."""
    box = secret_box(tuple(keys))
    current = [box.open(row.secret)]
    if row.old_secret is not None and row.old_secret_until and now < row.old_secret_until:
        current.append(box.open(row.old_secret))
    return current


def reseal_webhook_secrets(connection: Connection, box) -> None:
    """Rewrite every endpoint's secrets sealed under the box's first key (`herald secrets
    reencrypt`)."""
    rows = connection.execute(select(webhooks.c.pk, webhooks.c.secret, webhooks.c.old_secret))
    for pk, secret, old in rows.all():
        values = {"secret": box.reseal(secret), "old_secret": box.reseal(old) if old else None}
        connection.execute(update(webhooks).where(webhooks.c.pk == pk).values(**values))
