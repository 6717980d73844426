"""Delivery feedback from SES: an event moves the e-mail channel of the message it is about.

SES tells what became of an e-mail in two formats: event publishing (`eventType`) and the
older notifications (`notificationType`). Both carry `mail.messageId`, the id SES answered
when Herald sent it, which is the e-mail channel's provider id. SNS delivers at least once, so
recording an event is idempotent: a channel only moves forward (sent, then delivered, then
bounced or complained), and a redelivered event finds it already there and changes nothing.

An event changes only its message's own recipient, the e-mail address of the message's user
(as the user has it now: a message keeps no copy of the address it went to). An event that
names other addresses only changes nothing, and the addresses an event names are never
suppressed themselves, so no event can suppress an address its message was not sent to.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import ColumnElement, Connection, Engine, Row, select, update

from shared.channels import Channel, ChannelStatus
from shared.contacts.suppressions import suppress
from shared.infra.db import transaction
from shared.infra.models import messages, users, utcnow

log = logging.getLogger("herald.feedback")

FEEDBACK = Counter(
    "herald_ses_feedback_total", "SES events received, by event and outcome.", ["event", "outcome"]
)

# SES event -> the e-mail channel's state, and the states it may move the channel from.
STATES = {
    "Delivery": ChannelStatus.DELIVERED,
    "Bounce": ChannelStatus.BOUNCED,
    "Complaint": ChannelStatus.COMPLAINED,
    "Reject": ChannelStatus.REJECTED,
}
MOVES_FROM = {state: sorted(Channel.EMAIL.sources(state)) for state in STATES.values()}


@dataclass(frozen=True)
class SesEvent:
    """What one SES event says about one e-mail."""

    kind: str
    ses_message_id: str
    detail: str | None = None
    # The addresses the event is about, lowercased; None for a kind that names none (Reject).
    recipients: frozenset[str] | None = None
    suppresses: bool = False  # a permanent bounce or a complaint

    @property
    def state(self) -> ChannelStatus:
        """The e-mail channel state this event moves to."""
        return STATES[self.kind]

    def names(self, address: str | None) -> bool:
        """True when the event is about this address (always, for a kind that names none)."""
        if self.recipients is None:
            return True
        return address is not None and normal_address(address) in self.recipients


def normal_address(address: str) -> str:
    """An address as suppressions store and compare it: trimmed, lowercased."""
    return address.strip().lower()


def parse_ses_event(text: str) -> SesEvent | None:
    """The SES event in an SNS message's `Message`; None for anything else (a test message,
    an open or click event, the subscription notice SES sends when it is set up)."""
    try:
        body = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    kind = body.get("eventType") or body.get("notificationType")
    mail = body.get("mail")
    if kind not in STATES or not isinstance(mail, dict) or not mail.get("messageId"):
        return None
    section = body.get(kind[0].lower() + kind[1:])
    section = section if isinstance(section, dict) else {}
    detail, suppresses = _details(kind, section)
    recipients = _recipients(kind, section)
    return SesEvent(kind, str(mail["messageId"]), detail, recipients, suppresses)


def _details(kind: str, section: dict[str, Any]) -> tuple[str | None, bool]:
    """The channel's reason, and whether the event suppresses its recipient: permanent
    bounces and complaints do."""
    if kind == "Bounce":
        bounce_type = section.get("bounceType") or "Undetermined"
        detail = f"bounce/{bounce_type}: {section.get('bounceSubType') or 'General'}"
        return detail, bounce_type == "Permanent"
    if kind == "Complaint":
        feedback = section.get("complaintFeedbackType") or "not given"
        return f"complaint: {feedback}", True
    if kind == "Reject":
        return f"reject: {section.get('reason') or 'not given'}", False
    return None, False


def _recipients(kind: str, section: dict[str, Any]) -> frozenset[str] | None:
    """The addresses an event is about: a delivery's `recipients`, the `emailAddress` of each
    bounced or complained recipient; None for a reject, which names none."""
    if kind == "Reject":
        return None
    if kind == "Delivery":
        entries = section.get("recipients")
        found = entries if isinstance(entries, list) else []
    else:
        entries = section.get("bouncedRecipients" if kind == "Bounce" else "complainedRecipients")
        entries = entries if isinstance(entries, list) else []
        found = [entry.get("emailAddress") for entry in entries if isinstance(entry, dict)]
    return frozenset(normal_address(a) for a in found if isinstance(a, str) and "@" in a)


def record_feedback(engine: Engine, event: SesEvent) -> str:
    """Apply an event to its message's own recipient: `applied`, `unchanged` (already there, or
    an older state), `otherRecipient` (the event names other addresses only: nothing changes,
    nothing is suppressed) or `unknownMessage` (no message has that SES id)."""
    with transaction(engine) as connection:
        row = connection.execute(
            select(messages.c.pk, messages.c.project_id, messages.c.id, messages.c.user_id)
            .add_columns(users.c.email.label("recipient"))
            .select_from(messages.outerjoin(users, _user_of_message()))
            .where(messages.c.email_provider_id == event.ses_message_id)
            .limit(1)
        ).first()
        if row is None:
            outcome = "unknownMessage"
        elif not event.names(row.recipient):
            outcome = "otherRecipient"
        else:
            outcome = _apply(connection, event, row)
    FEEDBACK.labels(event.kind, outcome).inc()
    if outcome == "applied":
        channel_changed(row.project_id, row.user_id, row.id, "email", event.state)
    return outcome


def _user_of_message() -> ColumnElement[bool]:
    """The join of a message to its user, whose e-mail address is the message's recipient."""
    return (users.c.project_id == messages.c.project_id) & (users.c.id == messages.c.user_id)


def _apply(connection: Connection, event: SesEvent, row: Row) -> str:
    """Move the message's e-mail channel forward and, for a permanent bounce or a complaint,
    suppress its recipient: `applied`, or `unchanged` when the channel can't move."""
    moved = connection.execute(
        update(messages)
        .where(messages.c.pk == row.pk, messages.c.email_status.in_(MOVES_FROM[event.state]))
        .values(email_status=event.state, email_detail=event.detail, updated_at=utcnow())
    ).rowcount
    if not moved:
        return "unchanged"
    if event.suppresses and row.recipient:
        suppress(connection, row.project_id, row.recipient, event.state)
    return "applied"


def channel_changed(project_id: str, user_id: str, message_id: str, channel: str, state: str):
    """The one place told that a channel of a message changed after delivery: it logs the
    change (nothing else listens: the feed and its stream show no e-mail states)."""
    log.info(
        "channel changed",
        extra={"project_id": project_id, "message_id": message_id, "channel": channel},
    )
    log.debug("message %s of user %s: %s is %s", message_id, user_id, channel, state)
