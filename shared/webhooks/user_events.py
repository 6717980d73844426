"""The events of a user's own choices (SPEC §9): `user.preferences.updated` when the widget or
an unsubscribe link changes a user's preferences, and `user.unsubscribed` for a one-click
unsubscribe. Each is written in the transaction of the change. A project without an enabled
endpoint pays one indexed look-up (the endpoints' (project_id, id) index) and nothing more."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection, exists, select

from shared.infra.models import users
from shared.webhooks.events import record_event
from shared.webhooks.tables import webhooks

PREFERENCES_UPDATED = "user.preferences.updated"
UNSUBSCRIBED = "user.unsubscribed"


def has_enabled_webhook(connection: Connection, project_id: str) -> bool:
    """Whether the project has an endpoint that is on (events are written only then)."""
    query = select(exists().where(webhooks.c.project_id == project_id, webhooks.c.enabled))
    return bool(connection.scalar(query))


def _preferences(connection: Connection, project_id: str, user_id: str) -> dict:
    query = select(users.c.preferences).where(
        users.c.project_id == project_id, users.c.id == user_id
    )
    return connection.scalar(query) or {}


@contextlib.contextmanager
def preferences_events(
    connection: Connection,
    project_id: str,
    user_id: str,
    unsubscribed: str | None = None,
) -> Iterator[None]:
    """Around a change of a user's preferences, on its connection: when it changed them,
    `user.preferences.updated` (and `user.unsubscribed` of the notification `unsubscribed`,
    for a one-click unsubscribe). Nothing when the change failed or changed nothing."""
    if not has_enabled_webhook(connection, project_id):
        yield
        return
    before = _preferences(connection, project_id, user_id)
    yield
    after = _preferences(connection, project_id, user_id)
    if after == before:
        return
    data = {"userId": user_id, "preferences": after}
    if unsubscribed is not None:
        data["notificationId"] = unsubscribed
        record_event(connection, project_id, UNSUBSCRIBED, dict(data))
    record_event(connection, project_id, PREFERENCES_UPDATED, data)
