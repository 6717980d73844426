"""The push channel's delivery (SPEC §10). Each device's push is a row of `push_sends`: made
`pending` with the claim, then claimed `sending` by a check-and-set just before it goes, so a
device gets a message at most once, across redeliveries too. A delivery that died leaves the
device it was pushing `sending`, which the next one records `unknown` (it may have gone; it is
never pushed again) before it pushes the devices still `pending`. Devices go through the
members of the push chain that push to their kind; the ones the service says are gone are
removed from the user's devices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, bindparam, delete, select, update

from shared.channels import Channel, ChannelStatus
from shared.contacts.devices import MOST_DEVICES, shortened
from shared.infra import autocommit, utcnow
from shared.infra.db import dialect_insert
from shared.infra.models import devices, push_sends
from worker.channels import ChannelState
from worker.providers.base import DeviceGone, ProviderError
from worker.providers.chain import Chain, Outcome, send_through
from worker.providers.content import Device, PushSend

if TYPE_CHECKING:
    from worker.delivery import DeliveryServices
    from worker.plan import Plan

S = ChannelStatus
P = push_sends.c
STALE = "unknown: the delivery stopped during this push; not pushed again"
MISSING = ChannelState(S.SKIPPED, Channel.PUSH.declared.missing)
_DEVICES = (
    select(devices.c.id, devices.c.kind, devices.c.address, devices.c.p256dh, devices.c.auth)
    .where(devices.c.project_id == bindparam("project"), devices.c.user_id == bindparam("user"))
    .order_by(devices.c.pk)
    .limit(MOST_DEVICES)
)
_SENDS = select(push_sends).where(P.message_pk == bindparam("b_message_pk"))
_STALE = (
    update(push_sends)
    .where(
        P.message_pk == bindparam("b_message_pk"),
        P.status == S.SENDING,
        P.updated_at < bindparam("b_stale_before"),
    )
    .values(status=S.UNKNOWN, detail=STALE, updated_at=bindparam("b_now"))
)
_CLAIM = (
    update(push_sends)
    .where(
        P.message_pk == bindparam("b_message_pk"),
        P.device_id == bindparam("b_device"),
        P.status == S.PENDING,
    )
    .values(status=S.SENDING, updated_at=bindparam("b_now"))
)
_DONE = (
    update(push_sends)
    .where(P.message_pk == bindparam("b_message_pk"), P.device_id == bindparam("b_device"))
    .values(
        status=bindparam("b_status"),
        detail=bindparam("b_detail"),
        provider=bindparam("b_provider"),
        provider_id=bindparam("b_provider_id"),
        updated_at=bindparam("b_now"),
    )
)
_GONE = delete(devices).where(devices.c.id.in_(bindparam("ids", expanding=True)))


def _device(row: Row) -> Device:
    if row.kind == "webpush":
        return Device(row.id, row.kind, None, row.address, row.p256dh, row.auth)
    return Device(row.id, row.kind, row.address)


def add_devices(connection: Connection, row: Row, plan: Plan, stale_before: datetime) -> None:
    """The devices still to push into the plan's push: a push its delivery died during is
    recorded `unknown`, each device without a row gets one `pending`, and the outcomes already
    recorded are kept for the channel's."""
    send = plan.sends.get(Channel.PUSH)
    if not isinstance(send, PushSend):
        return
    now, pk = utcnow(), {"b_message_pk": row.pk}
    connection.execute(_STALE, {**pk, "b_stale_before": stale_before, "b_now": now})
    done = {sent.device_id: sent for sent in connection.execute(_SENDS, pk)}
    params = {"project": row.project_id, "user": row.user_id}
    found = [_device(device) for device in connection.execute(_DEVICES, params)]
    new = [device for device in found if device.id not in done]
    if new:
        rows = [_pending(row.pk, device, now) for device in new]
        connection.execute(dialect_insert(connection)(push_sends).on_conflict_do_nothing(), rows)
    waiting = tuple(d for d in found if d.id not in done or done[d.id].status == S.PENDING)
    earlier = tuple(_recorded(sent) for sent in done.values() if sent.status != S.PENDING)
    plan.sends[Channel.PUSH] = PushSend(**{**send.__dict__, "devices": waiting, "earlier": earlier})


def _pending(message_pk: int, device: Device, now: datetime) -> dict[str, Any]:
    to = device.endpoint if device.kind == "webpush" else device.token
    return {
        "message_pk": message_pk,
        "device_id": device.id,
        "kind": device.kind,
        "to": shortened(to),
        "status": S.PENDING,
        "updated_at": now,
    }


def _recorded(sent: Row) -> dict[str, Any]:
    """An outcome recorded by an earlier delivery (one left `sending` counts as unknown)."""
    status = S.UNKNOWN if sent.status == S.SENDING else sent.status
    return {
        "status": status,
        "detail": sent.detail,
        "provider": sent.provider,
        "id": sent.provider_id,
    }


def send_push(services: DeliveryServices, chain: Chain, send: PushSend) -> ChannelState:
    """Push to each device still `pending` (claimed first); the channel's state from every
    device's outcome: `sent` when one took it, else `unknown` when one may have, else `failed`
    (`skipped` when the user has no device)."""
    if not send.devices and not send.earlier:
        return MISSING
    outcomes, attempts, gone = list(send.earlier), [], []
    for device in send.devices:
        if not _claimed(services, send, device):
            continue  # another delivery has it
        outcome = _push_one(services, chain, send, device)
        outcomes.append(_record(services, send, device, outcome))
        attempts += [{**attempt, "deviceId": device.id} for attempt in outcome.attempts]
        if isinstance(outcome.error, DeviceGone):
            gone.append(device.id)
    if gone:
        with autocommit(services.engine) as connection:
            connection.execute(_GONE, {"ids": gone})
    return _channel_state(outcomes, attempts)


def _claimed(services: DeliveryServices, send: PushSend, device: Device) -> bool:
    params = {"b_message_pk": send.message_pk, "b_device": device.id, "b_now": utcnow()}
    with autocommit(services.engine) as connection:
        return bool(connection.execute(_CLAIM, params).rowcount)


def _push_one(services: DeliveryServices, chain: Chain, send: PushSend, device: Device) -> Outcome:
    """One device's push through the chain's members that push to its kind."""
    members = [member for member in chain.members if device.kind in member.devices]
    if not members:
        message = f"no provider of the push chain pushes to {device.kind} devices"
        return Outcome("failed", error=ProviderError("provider/none", message))
    budget = services.settings.provider_retry_budget
    try:
        return send_through(
            Chain(chain.channel, members, chain.scope),
            send.to(device),
            budget,
            lambda: None,
            services.breaker,
        )
    except Exception as exc:  # noqa: BLE001 - it broke during the call: it may have gone
        broken = ProviderError("unknown", f"{type(exc).__name__}: {exc}", unknown=True)
        return Outcome("unknown", error=broken)


def _record(
    services: DeliveryServices, send: PushSend, device: Device, outcome: Outcome
) -> dict[str, Any]:
    """Write one device's outcome (a write that fails leaves it `sending`: unknown later)."""
    status = {"sent": S.SENT, "unknown": S.UNKNOWN}.get(outcome.status, S.FAILED)
    last = outcome.attempts[-1]["provider"] if outcome.attempts else None
    detail = None if status == S.SENT else str(outcome.error or "provider/circuitOpen")
    values = {
        "status": status,
        "detail": detail,
        "provider": outcome.provider or last,
        "id": outcome.provider_id,
    }
    params = {"b_message_pk": send.message_pk, "b_device": device.id, "b_now": utcnow()}
    params |= {f"b_{key}": values[key] for key in ("status", "detail", "provider")}
    with autocommit(services.engine) as connection:
        connection.execute(_DONE, {**params, "b_provider_id": values["id"]})
    return values


def _channel_state(outcomes: list[dict[str, Any]], attempts: list[dict]) -> ChannelState:
    """The channel's state from its devices' outcomes."""
    for status in (S.SENT, S.UNKNOWN):
        found = [outcome for outcome in outcomes if outcome["status"] == status]
        if found:
            first = found[0]
            detail = None if status == S.SENT else first["detail"]
            provider_id = first["id"] if status == S.SENT else None
            return ChannelState(status, detail, provider_id, first["provider"], tuple(attempts))
    detail = outcomes[0]["detail"] if outcomes else Channel.PUSH.declared.missing
    return ChannelState(S.FAILED, detail, None, None, tuple(attempts))
