"""At most one send per channel when a job comes again: a job the broker delivers twice, a
channel a dead worker left sending, one a live worker is sending, a job lost and swept."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from shared.infra.db import transaction
from shared.infra.models import messages, utcnow
from tests.support.data import phone, token
from tests.support.servers import one_message, received
from worker.delivery import DeliveryServices, deliver_message
from worker.providers import build_providers


def _services(herald) -> DeliveryServices:
    return DeliveryServices(herald.settings, herald.engine, build_providers(herald.settings))


def _pk(herald, message_id: str) -> int:
    with herald.engine.connect() as connection:
        return connection.execute(
            select(messages.c.pk).where(messages.c.id == message_id)
        ).scalar_one()


def parked(herald, client, address: str, number: str, **state) -> int:
    """A message accepted but not delivered (scheduled an hour ahead), then put in `state` as
    if a worker had left it so; its pk."""
    message_id = f"m-{token()}"
    one_message(
        client, address, number, id=message_id, sendAt=(utcnow() + timedelta(hours=1)).isoformat()
    )
    with transaction(herald.engine) as connection:
        return connection.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status="queued", scheduled_at=None, **state)
            .returning(messages.c.pk)
        ).scalar_one()


def redelivered(herald, client, address: str, number: str, **state) -> dict:
    """The outcome of the job of a message parked in `state`, delivered again."""
    return deliver_message(_services(herald), parked(herald, client, address, number, **state))


def test_a_redelivered_job_never_sends_again(slow_herald, slow_client, standin):
    address, number = f"d-{token()}@example.com", phone()
    result = one_message(slow_client, address, number)
    assert result["status"] == "sent"
    # When the broker delivers the same job again
    again = deliver_message(_services(slow_herald), _pk(slow_herald, result["id"]))
    # Then nothing is sent twice and the answer is the same outcome
    assert again["channels"] == result["channels"]
    assert received(standin, address, number) == (1, 1)


def test_a_stale_sending_channel_becomes_unknown_not_resent(slow_herald, slow_client, standin):
    address, number = f"s-{token()}@example.com", phone()
    # Given a worker that claimed the e-mail and died during the provider call
    state = {"email_status": "sending", "sending_since": utcnow() - timedelta(minutes=5)}
    # When the job is delivered again
    outcome = redelivered(slow_herald, slow_client, address, number, **state)
    # Then the e-mail is recorded as unknown and not sent again; the SMS goes once
    assert outcome["channels"]["email"]["status"] == "unknown"
    assert outcome["channels"]["sms"]["status"] == "sent"
    assert outcome["status"] == "sent"
    assert received(standin, address, number) == (0, 1)


def test_a_fresh_sending_channel_is_left_to_its_worker(slow_herald, slow_client, standin):
    address, number = f"f-{token()}@example.com", phone()
    state = {"email_status": "sending", "sms_status": "sending", "sending_since": utcnow()}
    outcome = redelivered(slow_herald, slow_client, address, number, **state)
    assert outcome["status"] == "queued"
    assert outcome["channels"]["email"]["status"] == "sending"
    assert received(standin, address, number) == (0, 0)


def test_a_message_whose_job_was_lost_is_delivered_by_the_sweeper(
    slow_herald, slow_client, standin
):
    from shared.messages.sweeper import sweep

    address, number = f"l-{token()}@example.com", phone()
    # Given a message persisted as queued whose job never reached the broker
    parked(slow_herald, slow_client, address, number, enqueued_at=utcnow() - timedelta(hours=1))
    # When the sweeper passes
    assert sweep(slow_herald.engine, slow_herald.broker, slow_herald.settings)["requeued"] >= 1
    # Then it is delivered, once
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and received(standin, address, number) != (1, 1):
        time.sleep(0.05)
    assert received(standin, address, number) == (1, 1)
