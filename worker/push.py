"""The push channel's delivery (SPEC §10): the user's devices, read with the claim; one push a
device, through the members of the push chain that push to its kind; each device's outcome in
`push_devices`; and the devices the push service says are gone, removed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, bindparam, delete, select

from shared.channels import Channel, ChannelStatus
from shared.contacts.devices import MOST_DEVICES, shortened
from shared.infra import autocommit
from shared.infra.models import devices
from worker.channels import IN_CALL, ChannelState
from worker.providers.base import DeviceGone, ProviderError
from worker.providers.chain import Chain, Outcome, send_through
from worker.providers.content import Device, PushSend

if TYPE_CHECKING:
    from worker.delivery import DeliveryServices
    from worker.plan import Plan

_READ = (
    select(devices.c.id, devices.c.kind, devices.c.address, devices.c.p256dh, devices.c.auth)
    .where(devices.c.project_id == bindparam("project"), devices.c.user_id == bindparam("user"))
    .order_by(devices.c.pk)
    .limit(MOST_DEVICES)
)
_GONE = delete(devices).where(devices.c.id.in_(bindparam("ids", expanding=True)))
MISSING = ChannelState(ChannelStatus.SKIPPED, Channel.PUSH.declared.missing)


def _device(row: Row) -> Device:
    if row.kind == "webpush":
        return Device(row.id, row.kind, None, row.address, row.p256dh, row.auth)
    return Device(row.id, row.kind, row.address)


def _entry(device: Device, status: str, **more: Any) -> dict[str, Any]:
    """One device's outcome as `push_devices` holds it."""
    to = device.endpoint if device.kind == "webpush" else device.token
    entry = {"deviceId": device.id, "kind": device.kind, "to": shortened(to), "status": status}
    return entry | {key: value for key, value in more.items() if value is not None}


def add_devices(connection: Connection, row: Row, plan: Plan) -> None:
    """The user's devices into the plan's push, each written `sending` with the claim."""
    send = plan.sends.get(Channel.PUSH)
    if not isinstance(send, PushSend):
        return
    params = {"project": row.project_id, "user": row.user_id}
    found = tuple(_device(r) for r in connection.execute(_READ, params))
    plan.sends[Channel.PUSH] = PushSend(**{**send.__dict__, "devices": found})
    plan.changes["push_devices"] = [_entry(device, ChannelStatus.SENDING) for device in found]


def send_push(
    services: DeliveryServices,
    chain: Chain,
    send: PushSend,
    report: Callable[[ChannelState], None],
) -> ChannelState:
    """Push to each device once, `report`ing what is true if the delivery stops there; the
    channel's state: `sent` when a device took it, else `unknown` when one may have, else
    `failed` (`skipped` with no device left)."""
    if not send.devices:
        return MISSING
    entries = [_entry(device, ChannelStatus.PENDING) for device in send.devices]
    attempts: list[dict[str, Any]] = []
    gone: list[str] = []
    for index, device in enumerate(send.devices):
        outcome = _push_one(services, chain, send, device, entries, report)
        entries[index] = _outcome_entry(device, outcome)
        attempts += [{**attempt, "deviceId": device.id} for attempt in outcome.attempts]
        if isinstance(outcome.error, DeviceGone):
            gone.append(device.id)
    if gone:
        with autocommit(services.engine) as connection:
            connection.execute(_GONE, {"ids": gone})
    return _channel_state(entries, attempts)


def _push_one(
    services: DeliveryServices,
    chain: Chain,
    send: PushSend,
    device: Device,
    entries: list[dict[str, Any]],
    report: Callable[[ChannelState], None],
) -> Outcome:
    """One device's push through the chain's members that push to its kind."""
    members = [member for member in chain.members if device.kind in member.devices]
    if not members:
        message = f"no provider of the push chain pushes to {device.kind} devices"
        return Outcome("failed", error=ProviderError("provider/none", message))
    may_have_gone = ChannelState(ChannelStatus.UNKNOWN, IN_CALL, extra={"push_devices": entries})
    before = _state_so_far(entries)
    budget = services.settings.provider_retry_budget
    try:
        return send_through(
            Chain(chain.channel, members, chain.scope),
            send.to(device),
            budget,
            lambda: report(may_have_gone),
            services.breaker,
            lambda: report(before),
        )
    except Exception as exc:  # noqa: BLE001 - it broke during the call: it may have gone
        broken = ProviderError("unknown", f"{type(exc).__name__}: {exc}", unknown=True)
        return Outcome("unknown", error=broken)


def _state_so_far(entries: list[dict[str, Any]]) -> ChannelState:
    """What is true of the channel with these devices' outcomes, the rest not tried."""
    if any(entry["status"] in (ChannelStatus.SENT, ChannelStatus.UNKNOWN) for entry in entries):
        return ChannelState(ChannelStatus.UNKNOWN, IN_CALL, extra={"push_devices": entries})
    return ChannelState(ChannelStatus.PENDING)


def _outcome_entry(device: Device, outcome: Outcome) -> dict[str, Any]:
    error = str(outcome.error) if outcome.error is not None else None
    if outcome.status == "sent":
        return _entry(
            device, "sent", provider=outcome.provider, providerMessageId=outcome.provider_id
        )
    status = "unknown" if outcome.status == "unknown" else "failed"
    provider = outcome.attempts[-1]["provider"] if outcome.attempts else None
    return _entry(device, status, provider=provider, error=error or "provider/circuitOpen")


def _channel_state(entries: list[dict[str, Any]], attempts: list[dict[str, Any]]) -> ChannelState:
    extra = {"push_devices": entries}
    sent = [entry for entry in entries if entry["status"] == "sent"]
    if sent:
        first = sent[0]
        return ChannelState(
            ChannelStatus.SENT,
            None,
            first.get("providerMessageId"),
            first.get("provider"),
            tuple(attempts),
            extra,
        )
    unknown = [entry for entry in entries if entry["status"] == "unknown"]
    status = ChannelStatus.UNKNOWN if unknown else ChannelStatus.FAILED
    detail = (unknown or entries)[0].get("error")
    return ChannelState(status, detail, None, None, tuple(attempts), extra)
