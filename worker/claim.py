"""Reading a message for its delivery and claiming its channels by a check-and-set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Update

from shared.channels import MESSAGE_FINAL, Channel, ChannelStatus, MessageStatus
from shared.feed import announce_widget, widget_kind, widget_written
from shared.infra import Settings, logs, utcnow
from shared.messages import message_result
from shared.templating import render_time_limit
from worker.attempts import start_delivery
from worker.plan import Plan, add_unsubscribe, plan_delivery
from worker.push import add_devices
from worker.statements import (
    CLAIM,
    CLAIM_WITH_WIDGET,
    LOAD,
    LOAD_COUNTING,
    claim_announcing,
)

CLAIM_ATTEMPTS = 5
GONE = {
    "id": None,
    "ok": False,
    "status": MessageStatus.FAILED,
    "channels": {},
    "error": "message/notFound",
    "message": "The message no longer exists.",
}


@dataclass(frozen=True)
class Claim:
    """What claiming a message's channels came to: the plan whose claim applied and the row as
    the claim left it; or no plan when there was nothing to claim, and the row as last read
    (None if the message is gone)."""

    plan: Plan | None
    row: Row | None

    def answer(self) -> dict[str, Any]:
        """The message's answer as its row has it: its result, or `message/notFound`."""
        return message_result(self.row) if self.row is not None else dict(GONE)


def read_message(connection: Connection, message_pk: int, count: bool) -> tuple[Row | None, int]:
    """The message's row with what its delivery needs (None if gone), and, when `count`, the
    number of this delivery of it (0 if it isn't queued; see worker/attempts.py)."""
    if not count:
        return connection.execute(LOAD, {"message_pk": message_pk}).first(), 0
    if connection.dialect.name == "postgresql":
        row = connection.execute(LOAD_COUNTING, {"message_pk": message_pk}).first()
        return row, row.attempt if row is not None else 0
    attempt = start_delivery(connection, message_pk)
    return connection.execute(LOAD, {"message_pk": message_pk}).first(), attempt


def claim_channels(
    settings: Settings,
    connection: Connection,
    message_pk: int,
    refresh_widget: bool,
    row: Row | None,
) -> Claim:
    """Plan the message as read (`row`) and claim its channels, each an autocommitted statement
    on this connection, reading it again if it changed meanwhile; no plan if there's nothing to
    claim (gone, not due, already final, or changed on every attempt)."""
    for _ in range(CLAIM_ATTEMPTS):
        now = utcnow()
        if row is None:
            return Claim(None, None)
        logs.annotate(project_id=row.project_id, message_id=row.id)
        if not _due(row, now, refresh_widget):
            return Claim(None, row)
        stale_before = now - timedelta(seconds=settings.send_time_limit)
        with render_time_limit(settings.render_time_limit):  # all its templates
            plan = plan_delivery(row, now, stale_before, refresh_widget)
        add_unsubscribe(settings, row, plan)
        add_devices(connection, row, plan, stale_before)
        if row.status in MESSAGE_FINAL:  # a widget refresh never changes it
            for name in ("status", "error", "error_message"):
                plan.changes.pop(name, None)
        claimed = _apply(settings, connection, row, plan)
        if claimed is not None:
            return Claim(plan, claimed)
        row = connection.execute(LOAD, {"message_pk": message_pk}).first()
    return Claim(None, row)  # whoever changed it delivers


def _apply(settings: Settings, connection: Connection, row: Row, plan: Plan) -> Row | None:
    """Run the plan's claim; if it applied and rendered the widget, store and publish the
    feed's event (in the claim's statement on PostgreSQL, else on the same connection)."""
    if plan.widget is not None and connection.dialect.name == "postgresql":
        return _claim_announcing(settings, connection, row, plan)
    claimed = connection.execute(*_claim(row, plan)).first()
    if claimed is not None and plan.widget is not None:
        widget_written(settings, connection, row)
    return claimed


def _claim_announcing(
    settings: Settings, connection: Connection, row: Row, plan: Plan
) -> Row | None:
    """PostgreSQL: claim with the widget and store its event in one statement; publish it."""
    _, params = _claim(row, plan)
    changed = frozenset(plan.values())
    for name in changed:
        params[f"set_{name}"] = params.pop(name)
    kind = widget_kind(row)
    params |= {"event_project": row.project_id, "event_user": row.user_id, "event_kind": kind}
    claimed = connection.execute(claim_announcing(changed), params | {"event_at": utcnow()}).first()
    if claimed is not None:
        announce_widget(settings, row, kind, claimed.event_id)
    return claimed


def _due(row: Row, now: datetime, refresh_widget: bool) -> bool:
    """Whether this delivery has anything to do: not for a message scheduled later (unless a
    refresh of a widget already shown while quiet hours hold its e-mail and SMS), nor for a
    final one (unless a refresh of its widget)."""
    shown = refresh_widget and row.widget_status == ChannelStatus.SENT
    if row.status == MessageStatus.SCHEDULED and row.scheduled_at > now and not shown:
        return False
    return row.status not in MESSAGE_FINAL or bool(refresh_widget and row.widget_status)


def _claim(row: Row, plan: Plan) -> tuple[Update, dict[str, Any]]:
    """The check-and-set of a plan: it applies only if the message's status and channel
    statuses are as they were read."""
    params = {"message_pk": row.pk, "seen_status": row.status, "seen_increment": row.increment}
    mapping = row._mapping
    params.update({f"seen_{channel}": mapping[channel.status.name] for channel in Channel})
    params.update(plan.values())
    if plan.widget is None:
        return CLAIM, params
    params.update({f"new_{name}": value for name, value in plan.widget.values().items()})
    return CLAIM_WITH_WIDGET, params
