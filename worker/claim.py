"""Reading a message for its delivery and claiming its channels by a check-and-set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, String, Update, bindparam, case, select, update

from shared import logs
from shared.config import Settings
from shared.events import widget_written
from shared.models import messages, notifications, projects, users, utcnow
from shared.results import LOAD_COLUMNS, RESULT_COLUMNS, message_result
from shared.suppressions import email_suppressed
from shared.templates import render_time_limit
from shared.users import PROFILE_FIELDS
from worker.channels import Channel
from worker.plan import Plan, plan_delivery

_USER = [users.c[column].label(f"user_{column}") for column in PROFILE_FIELDS.values()]
_USER += [users.c.data.label("user_data"), users.c.preferences.label("user_preferences")]
_NOTIFICATION = [
    notifications.c[column].label(f"n_{column}")
    for column in (
        "name",
        "templates",
        "default_language",
        "allow_mute_widget",
        "allow_mute_email",
        "allow_mute_sms",
        "quiet_hours",
    )
]
_NOTIFICATION.append(notifications.c.id.label("n_id"))
_PROJECT = [projects.c.email_from, projects.c.email_from_name, projects.c.sms_sender_id]
_PROJECT.append(projects.c.id.label("project_id"))  # for the log lines of the delivery
# Built once: the row of a message with what delivery needs of its user, notification and
# project, and the check-and-set that claims channels only if the row is as it was read. Each
# runs as one autocommitted statement.
_LOAD = (
    select(
        *(messages.c[name] for name in LOAD_COLUMNS),
        *_USER,
        *_NOTIFICATION,
        *_PROJECT,
        email_suppressed(),
    )
    .select_from(
        messages.join(projects, projects.c.id == messages.c.project_id)
        .outerjoin(
            users,
            (users.c.project_id == messages.c.project_id) & (users.c.id == messages.c.user_id),
        )
        .outerjoin(
            notifications,
            (notifications.c.project_id == messages.c.project_id)
            & (notifications.c.id == messages.c.notification_id),
        )
    )
    .where(messages.c.pk == bindparam("message_pk"))
)
_CLAIM = (
    update(messages)
    .where(
        messages.c.pk == bindparam("message_pk"),
        messages.c.status == bindparam("seen_status"),
        *(
            channel.status.is_not_distinct_from(bindparam(f"seen_{channel}", type_=String))
            for channel in Channel
        ),
    )
    .returning(*RESULT_COLUMNS)
)
# The widget's rendering is written only if no increment came in since the row was read; if one
# did, the refresh job that increment enqueued renders it again with the newer data. Stacking
# never blocks a claim, and stale content never overwrites newer content.
WIDGET_FIELDS = ("widget_content", "widget_icon", "widget_link")
_CLAIM_WITH_WIDGET = _CLAIM.values(
    {
        messages.c[name]: case(
            (messages.c.increment == bindparam("seen_increment"), bindparam(f"new_{name}")),
            else_=messages.c[name],
        )
        for name in WIDGET_FIELDS
    }
)
CLAIM_ATTEMPTS = 5
GONE = {
    "id": None,
    "ok": False,
    "status": "failed",
    "channels": {},
    "error": "message/notFound",
    "message": "The message no longer exists.",
}


@dataclass(frozen=True)
class Claimed:
    """A plan whose claim applied, and the message's row as the claim left it."""

    plan: Plan
    row: Row


def claim_channels(
    settings: Settings, connection: Connection, message_pk: int, refresh_widget: bool
) -> Claimed | dict[str, Any]:
    """Read the message, plan it and claim its channels, each an autocommitted statement on
    this connection; or the message's answer if there's nothing to claim (gone, not due,
    already final, or changed under us on every attempt)."""
    for _ in range(CLAIM_ATTEMPTS):
        now = utcnow()
        row = connection.execute(_LOAD, {"message_pk": message_pk}).first()
        if row is None:
            return dict(GONE)
        logs.annotate(project_id=row.project_id, message_id=row.id)
        if not _due(row, now, refresh_widget):
            return message_result(row)
        stale_before = now - timedelta(seconds=settings.send_time_limit)
        with render_time_limit(settings.render_time_limit):  # all its templates
            plan = plan_delivery(row, now, stale_before, refresh_widget)
        if row.status in ("sent", "failed"):  # a widget refresh never changes it
            for name in ("status", "error", "error_message"):
                plan.changes.pop(name, None)
        claimed = connection.execute(*_claim(row, plan)).first()
        if claimed is not None:
            if plan.widget is not None:  # the widget was rendered: the feed's event
                widget_written(settings, connection, row)
            return Claimed(plan, claimed)
    return message_result(row)  # the row kept changing: whoever changed it delivers it


def _due(row: Row, now: datetime, refresh_widget: bool) -> bool:
    """Whether this delivery has anything to do: not for a message scheduled later (unless a
    refresh of a widget already shown while quiet hours hold its e-mail and SMS), nor for a
    final one (unless a refresh of its widget)."""
    shown = refresh_widget and row.widget_status == "sent"
    if row.status == "scheduled" and row.scheduled_at > now and not shown:
        return False
    return row.status not in ("sent", "failed") or bool(refresh_widget and row.widget_status)


def _claim(row: Row, plan: Plan) -> tuple[Update, dict[str, Any]]:
    """The check-and-set of a plan: it applies only if the message's status and channel
    statuses are as they were read."""
    params = {"message_pk": row.pk, "seen_status": row.status, "seen_increment": row.increment}
    params.update({f"seen_{channel}": row._mapping[channel.status] for channel in Channel})
    params.update(plan.values())
    if plan.widget is None:
        return _CLAIM, params
    params.update({f"new_{name}": value for name, value in plan.widget.values().items()})
    return _CLAIM_WITH_WIDGET, params
