"""The statements of a delivery, built once: reading a message with what its delivery needs,
and the check-and-set that claims its channels. Each runs as one autocommitted statement.

PostgreSQL runs two pairs of steps as one statement each, with a data-modifying WITH: counting
a delivery with reading its message, and claiming a rendered widget with storing its feed
event. SQLite has no such WITH; there each pair is two statements on the same connection.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, String, bindparam, case, func, insert, select, true, update

from shared.channels import Channel
from shared.contacts import PROFILE_FIELDS, email_suppressed
from shared.infra.models import devices, feed_events, messages, notifications, projects, users
from shared.messages import LOAD_COLUMNS, RESULT_COLUMNS
from worker.attempts import START

# What LOAD reads of the user, notification and project beside the message's own columns; the
# plan reads a column of a channel or of the profile through these labels.
PROFILE = {column: users.c[column].label(f"user_{column}") for column in PROFILE_FIELDS.values()}
_USER = [*PROFILE.values(), users.c.data.label("user_data")]
_USER.append(users.c.preferences.label("user_preferences"))
# The user's push devices, counted (the push channel's address); read only when it pushes.
DEVICES = (
    select(func.count())
    .where(devices.c.project_id == messages.c.project_id, devices.c.user_id == messages.c.user_id)
    .scalar_subquery()
    .label("user_devices")
)
_USER.append(DEVICES)
ALLOWS_MUTE = {c: c.allow_mute_column.label(f"n_{c.allow_mute_column.name}") for c in Channel}
_NOTIFICATION = [
    notifications.c[column].label(f"n_{column}")
    for column in ("id", "name", "templates", "default_language", "quiet_hours")
]
_NOTIFICATION += ALLOWS_MUTE.values()
# The project's settings the channels' contents take (a default From, the SMS sender id).
SENDER_COLUMNS = sorted(
    {f.project_default for c in Channel for f in c.fields if f.project_default}
    | {column for c in Channel for column in c.declared.project_columns}
)
_PROJECT = [projects.c[column] for column in SENDER_COLUMNS]
_PROJECT.append(projects.c.id.label("project_id"))  # for the log lines of the delivery
# The widget secret as stored, which an e-mail's unsubscribe link is signed with.
_PROJECT.append(projects.c.widget_secret.label("p_widget_secret"))
# The row of a message with what delivery needs of its user, notification and project, and
# the check-and-set that claims channels only if the row is as it was read.
LOAD = (
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
CLAIM = (
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
CLAIM_WITH_WIDGET = CLAIM.values(
    {
        messages.c[name]: case(
            (messages.c.increment == bindparam("seen_increment"), bindparam(f"new_{name}")),
            else_=messages.c[name],
        )
        for name in WIDGET_FIELDS
    }
)
# PostgreSQL: count the delivery of a queued message (see worker/attempts.py) in the read.
_STARTED = START.cte("started")
LOAD_COUNTING = LOAD.add_columns(func.coalesce(_STARTED.c.attempts, 0).label("attempt")).outerjoin(
    _STARTED, _STARTED.c.pk == messages.c.pk
)


@cache
def claim_announcing(columns: frozenset[str]) -> Select:
    """PostgreSQL: the claim with a rendered widget that sets these `columns` (each from the
    parameter `set_<column>`), storing the widget's feed event if it applied; the claimed row
    with the event's id as `event_id`. One statement per set of columns a plan changes."""
    claimed = CLAIM_WITH_WIDGET.values(
        {name: bindparam(f"set_{name}") for name in sorted(columns)}
    ).cte("claimed")
    event = (
        insert(feed_events)
        .from_select(
            ["project_id", "user_id", "kind", "message_id", "created_at"],
            select(
                bindparam("event_project", type_=String),
                bindparam("event_user", type_=String),
                bindparam("event_kind", type_=String),
                claimed.c.id,
                bindparam("event_at", type_=feed_events.c.created_at.type),
            ),
        )
        .returning(feed_events.c.id)
        .cte("event")
    )
    return select(claimed, event.c.id.label("event_id")).select_from(
        claimed.outerjoin(event, true())
    )
