"""Delivery feedback from SES: an event moves the e-mail channel of the message it is about.

SES tells what became of an e-mail in two formats: event publishing (`eventType`) and the
older notifications (`notificationType`). Both carry `mail.messageId`, the id SES answered
when Herald sent it, which is the e-mail channel's provider id. SNS delivers at least once, so
recording an event is idempotent: a channel only moves forward (sent, then delivered, then
bounced or complained), and a redelivered event finds it already there and changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine, select, update

from shared.channels import Channel, ChannelStatus
from shared.contacts.suppressions import suppress
from shared.infra.db import transaction
from shared.infra.models import messages, utcnow

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
    suppress: tuple[str, ...] = ()

    @property
    def state(self) -> ChannelStatus:
        """The e-mail channel state this event moves to."""
        return STATES[self.kind]


def parse_ses_event(text: str) -> SesEvent | None:
    """The SES event in an SNS message's `Message`; None for anything else (a test message,
    an open or click event, the subscription notice SES sends when it is set up)."""
    try:
        body = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    kind = body.get("eventType") or body.get("notificationType")
    mail = body.get("mail")
    if kind not in STATES or not isinstance(mail, dict) or not mail.get("messageId"):
        return None
    section = body.get(kind[0].lower() + kind[1:])
    section = section if isinstance(section, dict) else {}
    detail, suppressed = _details(kind, section)
    return SesEvent(kind, str(mail["messageId"]), detail, suppressed)


def _details(kind: str, section: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """The channel's reason and the addresses to suppress: permanent bounces and complaints."""
    if kind == "Bounce":
        bounce_type = section.get("bounceType") or "Undetermined"
        detail = f"bounce/{bounce_type}: {section.get('bounceSubType') or 'General'}"
        recipients = section.get("bouncedRecipients") if bounce_type == "Permanent" else []
        return detail, _addresses(recipients)
    if kind == "Complaint":
        feedback = section.get("complaintFeedbackType") or "not given"
        return f"complaint: {feedback}", _addresses(section.get("complainedRecipients"))
    if kind == "Reject":
        return f"reject: {section.get('reason') or 'not given'}", ()
    return None, ()


def _addresses(recipients: Any) -> tuple[str, ...]:
    """The `emailAddress` of each recipient entry."""
    if not isinstance(recipients, list):
        return ()
    found = (r.get("emailAddress") for r in recipients if isinstance(r, dict))
    return tuple(a for a in found if isinstance(a, str) and "@" in a)


def record_feedback(engine: Engine, event: SesEvent) -> str:
    """Apply an event: `applied`, `unchanged` (already there, or an older state) or
    `unknownMessage` (no message has that SES id)."""
    with transaction(engine) as connection:
        row = connection.execute(
            select(messages.c.pk, messages.c.project_id, messages.c.id, messages.c.user_id)
            .where(messages.c.email_provider_id == event.ses_message_id)
            .limit(1)
        ).first()
        if row is None:
            outcome = "unknownMessage"
        else:
            moved = connection.execute(
                update(messages)
                .where(
                    messages.c.pk == row.pk,
                    messages.c.email_status.in_(MOVES_FROM[event.state]),
                )
                .values(email_status=event.state, email_detail=event.detail, updated_at=utcnow())
            ).rowcount
            outcome = "applied" if moved else "unchanged"
            if moved:
                for address in event.suppress:
                    suppress(connection, row.project_id, address, event.state)
    FEEDBACK.labels(event.kind, outcome).inc()
    if outcome == "applied":
        channel_changed(row.project_id, row.user_id, row.id, "email", event.state)
    return outcome


def channel_changed(project_id: str, user_id: str, message_id: str, channel: str, state: str):
    """The one place told that a channel of a message changed after delivery; the widget
    stream's publisher hooks in here."""
    log.info(
        "channel changed",
        extra={"project_id": project_id, "message_id": message_id, "channel": channel},
    )
    log.debug("message %s of user %s: %s is %s", message_id, user_id, channel, state)
