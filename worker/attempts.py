"""Deliveries counted per message, and failing one whose delivery keeps dying."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, bindparam, update

from shared.channels import Channel, MessageStatus
from shared.infra.models import messages, utcnow
from shared.messages import CRASHED, RESULT_COLUMNS, message_result
from shared.operations.metrics import CRASHED_MESSAGES, MESSAGES
from worker.channels import crashed_values

log = logging.getLogger("herald.delivery")
MAX_ATTEMPTS = 3  # deliveries of a message that may die before it fails with delivery/crashed
# A delivery of a queued message counts itself before it reads the message: a render or a send
# that kills its worker (or runs past the time limit) is counted too.
START = (
    update(messages)
    .where(messages.c.pk == bindparam("message_pk"), messages.c.status == MessageStatus.QUEUED)
    .values(attempts=messages.c.attempts + 1)
    .returning(messages.c.attempts, messages.c.pk)
)
_CRASH = (
    update(messages)
    .where(messages.c.pk == bindparam("message_pk"), messages.c.status == MessageStatus.QUEUED)
    .values({name: value for channel in Channel for name, value in crashed_values(channel).items()})
    .values(
        status=MessageStatus.FAILED,
        error=CRASHED,
        error_message=(
            f"Its delivery stopped {MAX_ATTEMPTS} times (the worker was killed or ran past the "
            "time limit); it is not tried again."
        ),
        updated_at=bindparam("now"),
    )
    .returning(*RESULT_COLUMNS)
)


def start_delivery(connection: Connection, message_pk: int) -> int:
    """Count a delivery of a queued message (an autocommitted statement): its number (0 if the
    message isn't queued)."""
    return connection.execute(START, {"message_pk": message_pk}).scalar() or 0


def crash_message(connection: Connection, message_pk: int) -> dict[str, Any] | None:
    """Fail a queued message with `delivery/crashed` (an autocommitted statement); None if it
    isn't queued any more."""
    values = {"message_pk": message_pk, "now": utcnow()}
    row = connection.execute(_CRASH, values).first()
    if row is None:
        return None
    CRASHED_MESSAGES.inc()
    MESSAGES.labels(MessageStatus.FAILED).inc()
    failed = {"status": MessageStatus.FAILED, "error": CRASHED}
    log.warning("message failed: %s", CRASHED, extra=failed)
    return message_result(row)
