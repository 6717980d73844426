"""Retrying a message's channel that failed (SPEC §11): back to `pending` by one check-and-set,
then a delivery job, whose claim sends it at most once as any other delivery does.

A channel `unknown` may have reached the user already: it is retried only when the caller
confirms that it may arrive twice. The attempts recorded so far are kept; the next delivery
writes its own beside them. The webhook events follow from the change of the channel's status
as ever (`pending` is no event; the next outcome is)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dramatiq
from sqlalchemy import Connection, Engine, Row, select, update

from shared.channels import Channel, ChannelStatus, MessageStatus
from shared.infra.broker import enqueue_deliveries
from shared.infra.errors import Conflict, HeraldError
from shared.infra.models import devices, messages, push_sends, utcnow
from shared.messages.store import get_message

log = logging.getLogger("herald.retry")
S = ChannelStatus
RETRYABLE = frozenset({S.FAILED, S.UNKNOWN})
# A message whose delivery is over; one still queued or scheduled retries nothing yet.
DONE = frozenset({MessageStatus.SENT, MessageStatus.FAILED})


def retry_channel(
    connection_or_engine: Connection | Engine,
    broker: dramatiq.Broker,
    project_id: str,
    message_id: str,
    channel: str,
    confirm_unknown: bool = False,
) -> Row:
    """Send a message's `failed` channel (or `unknown`, with `confirm_unknown`) again: the
    message's row as the retry left it. `message/notFound`, `channel/invalid`,
    `retry/notRetryable` (the channel did not fail, or is no longer as read: a second click),
    `retry/mayDuplicate` (unknown, not confirmed).

    Given a connection inside a transaction, the caller commits; the job is enqueued at once,
    and a delivery that reads the row before that commit finds nothing to do, so the sweeper
    sends it once the commit is older than its requeue delay."""
    with _writing(connection_or_engine) as connection:
        row = get_message(connection, project_id, message_id)
        chosen = _channel_of(row, channel)
        _check(row, chosen, confirm_unknown)
        retried = _reset(connection, row, chosen, confirm_unknown)
    try:
        enqueue_deliveries(broker, [retried.pk], [])
    except Exception:  # noqa: BLE001 - the broker is down: the sweeper enqueues it
        log.exception("enqueue failed; the sweeper will re-enqueue message %s", retried.pk)
    return retried


@contextlib.contextmanager
def _writing(connection_or_engine: Connection | Engine) -> Iterator[Connection]:
    """A transaction on the engine, or on a connection outside one (the caller's otherwise)."""
    if isinstance(connection_or_engine, Engine):
        with connection_or_engine.begin() as connection:
            yield connection
    elif connection_or_engine.in_transaction():
        yield connection_or_engine
    else:
        with connection_or_engine.begin():
            yield connection_or_engine


def _channel_of(row: Row, name: str) -> Channel:
    """The channel named, which the message uses, or `channel/invalid`."""
    used = [channel for channel in Channel if row._mapping[channel.status.name] is not None]
    for channel in used:
        if channel.value == name:
            return channel
    choices = ", ".join(channel.value for channel in used) or "none"
    message = f"channel must be one of this message's channels ({choices})."
    # a channel of Herald's that this message doesn't use is its state, not a malformed body
    kind = Conflict if name in tuple(Channel) else HeraldError
    raise kind("channel/invalid", message)


def _check(row: Row, channel: Channel, confirm_unknown: bool) -> None:
    """Refuse a channel that did not fail, a message still on its way, an unconfirmed unknown."""
    status = row._mapping[channel.status.name]
    if row.status not in DONE:
        raise Conflict(
            "retry/notRetryable",
            f"The message is still {row.status}: its delivery is not over; retry once it is.",
        )
    if status not in RETRYABLE:
        raise Conflict(
            "retry/notRetryable",
            f"The {channel} channel is {status}: only a failed or unknown channel is retried.",
        )
    if status == S.UNKNOWN and not confirm_unknown:
        raise Conflict(
            "retry/mayDuplicate",
            f"The {channel} channel is unknown: it may have reached the user already, so a "
            "retry may arrive twice; retry with confirmUnknown to send it anyway.",
        )


def _reset(connection: Connection, row: Row, channel: Channel, confirm_unknown: bool) -> Row:
    """The check-and-set: the channel back to `pending` and the message to `queued`, only if
    both are still as read (of two retries, one applies); a push's devices with it."""
    now, seen = utcnow(), row._mapping[channel.status.name]
    statement = (
        update(messages)
        .where(
            messages.c.pk == row.pk,
            messages.c.status == row.status,
            channel.status == seen,
        )
        .values({channel.status: S.PENDING, channel.detail: None})
        .values({channel.provider_id: None, channel.provider: None})
        .values(status=MessageStatus.QUEUED, error=None, error_message=None, attempts=0)
        .values(enqueued_at=now, updated_at=now)
        .returning(*messages.c)
    )
    retried = connection.execute(statement).first()
    if retried is None:
        raise Conflict(
            "retry/notRetryable",
            f"The {channel} channel changed meanwhile (another retry took it); read it again.",
        )
    if channel.declared.devices:
        _reset_devices(connection, row.pk, confirm_unknown, now)
    return retried


def _reset_devices(connection: Connection, message_pk: int, confirm_unknown: bool, now) -> None:
    """Each device whose push failed (or may have gone, when confirmed) back to `pending`,
    unless the device is gone from the user's devices."""
    statuses = [S.FAILED, S.UNKNOWN, S.SENDING] if confirm_unknown else [S.FAILED]
    connection.execute(
        update(push_sends)
        .where(
            push_sends.c.message_pk == message_pk,
            push_sends.c.status.in_(statuses),
            push_sends.c.device_id.in_(select(devices.c.id)),
        )
        .values(status=S.PENDING, detail=None, provider=None, provider_id=None, updated_at=now)
    )


@dataclass(frozen=True)
class RetryRequest:
    """A `messages.retry` body: the message, its channel, and whether an unknown may go twice."""

    message_id: str
    channel: str
    confirm_unknown: bool = False

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> RetryRequest:
        """Read `{"id", "channel", "confirmUnknown"?}`; a wrong field is `<field>/...`."""
        for key in body:
            if key not in ("id", "channel", "confirmUnknown"):
                raise HeraldError(f"{key}/unknown", f"{key!r} is not a field of messages.retry.")
        values = []
        for key in ("id", "channel"):
            value = body.get(key)
            if value in (None, ""):
                raise HeraldError(f"{key}/required", f"The body must name the message's {key}.")
            if not isinstance(value, str):
                raise HeraldError(f"{key}/invalid", f"{key} must be a string.")
            values.append(value)
        confirm = body.get("confirmUnknown")
        if confirm is not None and not isinstance(confirm, bool):
            raise HeraldError("confirmUnknown/invalid", "confirmUnknown must be true or false.")
        return cls(values[0], values[1], bool(confirm))
