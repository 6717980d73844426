"""`messages.send` from validation to answer: accept, enqueue, wait once, answer each message."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import dramatiq
from sqlalchemy import Engine, select

from shared.infra.broker import enqueue_deliveries, wait_results
from shared.infra.db import autocommit
from shared.infra.errors import HeraldError, Refused
from shared.infra.models import messages, utcnow
from shared.messages.ingress import NewMessage, Outcome, accept_batch
from shared.messages.results import error_result, message_result
from shared.tenancy.senders import is_allowed, list_senders, not_allowed, sending_address

log = logging.getLogger("herald.sending")


def send_batch(
    engine: Engine,
    broker: dramatiq.Broker,
    project_id: str,
    items: list[NewMessage | Refused],
    wait: float,
) -> list[dict[str, Any]]:
    """Accept a batch and answer each message, in request order: one transaction for the batch,
    one job per new message, one deadline for all the results; a message whose job did not
    answer in time is answered from its row."""
    items = _check_override_senders(engine, project_id, items)
    accepted = accept_batch(engine, project_id, items, utcnow())
    jobs = _enqueue(broker, accepted)
    results = wait_results(broker, jobs, wait) if jobs else {}
    missing = [entry.pk for entry in accepted if entry.pk is not None and entry.pk not in results]
    if missing:
        results.update(_from_rows(engine, missing))
    return [
        entry.result if entry.pk is None else _answer(entry, results.get(entry.pk))
        for entry in accepted
    ]


def _check_override_senders(
    engine: Engine, project_id: str, items: list[NewMessage | Refused]
) -> list[NewMessage | Refused]:
    """The batch with each override's `from` in its sending form, and each item whose `from`
    is not allowed refused with the item error `template/senderNotAllowed`."""
    if not any(_override_from(item) for item in items):
        return items
    with autocommit(engine) as connection:
        allowed = set(list_senders(connection, project_id))
    return [_with_allowed_sender(allowed, item) for item in items]


def _with_allowed_sender(allowed: set[str], item: NewMessage | Refused) -> NewMessage | Refused:
    """The item with its override's `from` checked against the allowed senders."""
    address = _override_from(item)
    if address is None:
        return item
    if not is_allowed(allowed, address):
        return Refused(item.id, not_allowed("emailSettingsOverride.from", address))
    override = {**item.email_override, "from": sending_address(address)}
    return dataclasses.replace(item, email_override=override)


def _override_from(item: NewMessage | Refused) -> str | None:
    if isinstance(item, NewMessage) and item.email_override:
        return item.email_override.get("from")
    return None


def _answer(entry: Outcome, result: dict[str, Any] | None) -> dict[str, Any]:
    """A new message's answer; its row can be gone only if its user was deleted meanwhile."""
    if result is None or result.get("error") == "message/notFound":
        return error_result(
            entry.id,
            HeraldError(
                "message/notFound", "The message was deleted (with its user) before it was sent."
            ),
        )
    return result


def _enqueue(broker: dramatiq.Broker, accepted: list[Outcome]) -> dict[int, dramatiq.Message]:
    """One job per new message (and a widget refresh per stacked one), all in one round trip.
    A failed enqueue leaves the messages `queued` in the database, where the sweeper finds
    them."""
    pks = [entry.pk for entry in accepted if entry.pk is not None]
    refreshes = [entry.refresh_pk for entry in accepted if entry.refresh_pk is not None]
    if not pks and not refreshes:
        return {}
    try:
        return enqueue_deliveries(broker, pks, refreshes)
    except Exception:  # noqa: BLE001 - the broker is down: the sweeper re-enqueues
        log.exception("enqueue failed; the sweeper will re-enqueue messages %s", pks)
        return {}


def _from_rows(engine: Engine, pks: list[int]) -> dict[int, dict[str, Any]]:
    """Results read from the rows, for messages whose job did not answer in time."""
    with autocommit(engine) as connection:
        rows = connection.execute(select(messages).where(messages.c.pk.in_(pks))).all()
    return {row.pk: message_result(row) for row in rows}
