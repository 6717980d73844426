"""A message's delivery plan, decided from its row as read: each channel's new state, the sends."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from shared.channels import WAITING, Channel, ChannelStatus, MessageStatus
from shared.contacts import SUPPRESSED, Subscription, make_token, unsubscribe_url
from shared.infra import Settings
from shared.infra.secrets import secret_box
from shared.notifications import quiet_until
from shared.operations.metrics import RENDER_SECONDS
from shared.templating import Draft, Recipient, RenderedMessage, RenderFailed, render_message
from worker.channels import SENDING, ChannelState
from worker.providers.content import CONTENTS, ProviderContent
from worker.statements import ALLOWS_MUTE, DEVICES, PROFILE

STALE_SENDING = "unknown: the worker stopped during the provider call; not sent again"
# An e-mail or SMS waiting for the end of the notification's quiet hours (the message's
# `scheduled_at`); the sweeper's release of the message decides it again.
HELD = ChannelState(ChannelStatus.SCHEDULED, "quietHours")
MUTED = ChannelState(ChannelStatus.MUTED, "user/muted")
# The user's address a channel can't go without (read through LOAD's label of it), and its
# skip when it's missing.
ADDRESSES = {c: PROFILE[c.declared.address] for c in Channel if c.declared.address}
ADDRESSES |= {c: DEVICES for c in Channel if c.declared.devices}  # push: how many devices
MISSING = {c: ChannelState(ChannelStatus.SKIPPED, c.declared.missing) for c in ADDRESSES}


@dataclass(frozen=True)
class Widget:
    """The widget's rendering, written with the claim."""

    content: str | None
    icon: str | None
    link: str | None

    def values(self) -> dict[str, str | None]:
        """The widget's columns of the messages table."""
        return {"widget_content": self.content, "widget_icon": self.icon, "widget_link": self.link}


@dataclass
class Plan:
    """The row changes of the claim transaction and the sends it claims."""

    changes: dict[str, Any]
    channels: dict[Channel, ChannelState] = field(default_factory=dict)
    sends: dict[Channel, ProviderContent] = field(default_factory=dict)
    widget: Widget | None = None
    # the attempts a retried channel to send had before (SPEC §11): its new ones go after them
    earlier: dict[Channel, list[dict[str, Any]]] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """Every column this plan changes, the widget's rendering aside."""
        values = dict(self.changes)
        for channel, state in self.channels.items():
            values.update(state.values(channel))
        return values


@dataclass
class Decision:
    """What the row alone decides: channels settled without rendering, those to render, and
    whether another worker is sending one right now."""

    channels: dict[Channel, ChannelState]
    to_render: list[Channel]
    in_flight: bool


def plan_delivery(row: Row, now: datetime, stale_before: datetime, refresh_widget: bool) -> Plan:
    """Decide every channel of a message from the row as read: `decide_channels`, then
    `render_message` (of `draft`), `add_rendered`, `hold_for_quiet_hours` and
    `final_status`."""
    if row.n_id is None:
        message = f"The notification {row.notification_id!r} was deleted."
        return failed_plan(row, Plan({"updated_at": now}), "notification/notFound", message)
    decision = decide_channels(row, stale_before, refresh_widget)
    plan = Plan({"updated_at": now}, dict(decision.channels))
    if decision.to_render:
        try:
            with RENDER_SECONDS.time():
                rendered = render_message(draft(row), decision.to_render, row)
        except RenderFailed as exc:
            plan.changes["language"] = exc.language
            return failed_plan(row, plan, exc.code, exc.message, decision.to_render)
        plan.changes["language"] = rendered.language
        add_rendered(row, plan, rendered)
    hold_for_quiet_hours(row, plan, now)
    if plan.sends:
        plan.channels.update(dict.fromkeys(plan.sends, SENDING))
        plan.changes["sending_since"] = now
        plan.earlier = {c: row._mapping[c.attempts.name] for c in plan.sends}
    status = final_status(row, plan, decision.in_flight)
    if status is not None:
        plan.changes["status"] = status
    return plan


def decide_channels(row: Row, stale_before: datetime, refresh_widget: bool) -> Decision:
    """Mutes, skips for a missing or suppressed address, and a `sending` whose worker died
    (`unknown`)."""
    preferences = (row.user_preferences or {}).get(row.notification_id, {})
    mapping = row._mapping
    decision = Decision({}, [], in_flight=False)
    for channel in Channel:
        status = mapping[channel.status.name]
        released = status == HELD.status and row.status != MessageStatus.SCHEDULED
        if status == ChannelStatus.PENDING or released:
            if channel.muted(mapping[ALLOWS_MUTE[channel]], preferences):
                decision.channels[channel] = MUTED
            elif channel in ADDRESSES and not mapping[ADDRESSES[channel]]:
                decision.channels[channel] = MISSING[channel]
            elif channel is Channel.EMAIL and row.email_suppressed:
                decision.channels[channel] = ChannelState(ChannelStatus.SKIPPED, SUPPRESSED)
            else:
                decision.to_render.append(channel)
        elif status == ChannelStatus.SENDING:
            if row.sending_since is None or row.sending_since < stale_before:
                if channel.declared.devices:  # each device's push is claimed on its own
                    decision.to_render.append(channel)
                else:
                    decision.channels[channel] = ChannelState(ChannelStatus.UNKNOWN, STALE_SENDING)
            else:
                decision.in_flight = True
        elif channel is Channel.WIDGET and status == ChannelStatus.SENT and refresh_widget:
            decision.to_render.append(channel)
    return decision


def hold_for_quiet_hours(row: Row, plan: Plan, now: datetime) -> None:
    """E-mail and SMS due inside the notification's quiet hours wait for the window's end: the
    message becomes `scheduled` for then, while the widget goes at once (SPEC §3). They are
    rendered first all the same, so a template that can't render fails the message now."""
    due = max(row.scheduled_at or now, now)  # a released message is due at its scheduled time
    until = quiet_until(row.n_quiet_hours, row.user_timezone, due) if plan.sends else None
    if until is None:
        return
    for channel in list(plan.sends):
        del plan.sends[channel]
        plan.channels[channel] = HELD
    plan.changes.update(status=MessageStatus.SCHEDULED, scheduled_at=until)


def draft(row: Row) -> Draft:
    """What the message renders from, read from the row (its user's columns through LOAD's
    labels)."""
    mapping = row._mapping
    columns = {column: mapping[label] for column, label in PROFILE.items()}
    return Draft(
        notification_id=row.notification_id,
        notification_name=row.n_name,
        templates=row.n_templates or {},
        default_language=row.n_default_language,
        message_id=row.id,
        data=row.data or {},
        recipient=Recipient(row.user_id, columns, row.user_data or {}),
        increment=row.increment,
        project_id=row.project_id,
        overrides={
            Channel.WIDGET: row.widget_override,
            Channel.EMAIL: row.email_override,
            Channel.PUSH: row.push_override,
        },
    )


def final_status(row: Row, plan: Plan, in_flight: bool) -> str | None:
    """`sent` when nothing is left to send on any channel; None leaves the status as it is."""
    states = [plan.channels.get(channel) or ChannelState.of(channel, row) for channel in Channel]
    if not plan.sends and not in_flight and all(state.final for state in states):
        return MessageStatus.SENT
    return None


def failed_plan(
    row: Row, plan: Plan, code: str, message: str, channels: list[Channel] | None = None
) -> Plan:
    """The message can't be delivered: it and its undecided channels fail with this code."""
    for channel in Channel if channels is None else channels:
        if row._mapping[channel.status.name] in WAITING:
            plan.channels[channel] = ChannelState(ChannelStatus.FAILED, code)
    plan.changes.update(status=MessageStatus.FAILED, error=code, error_message=message)
    plan.sends.clear()
    plan.widget = None
    return plan


def add_rendered(row: Row, plan: Plan, rendered: RenderedMessage) -> None:
    """The rendered channels into the plan: the widget shown, the others to send (or failed
    when they can't go, such as an e-mail without From)."""
    for channel, content in rendered.contents.items():
        if channel is Channel.WIDGET:
            plan.channels[channel] = ChannelState(ChannelStatus.SENT)
            plan.widget = Widget(content["content"], content["icon"], content["link"])
        elif missing := rendered.missing(channel):
            plan.channels[channel] = ChannelState(ChannelStatus.FAILED, missing)
        else:
            address = row._mapping[ADDRESSES[channel]]
            plan.sends[channel] = CONTENTS[channel](row.id, address, content, row)


def add_unsubscribe(settings: Settings, row: Row, plan: Plan) -> None:
    """The one-click unsubscribe link (SPEC §8) into the e-mail to send, when its notification
    lets the user mute its e-mail."""
    email = plan.sends.get(Channel.EMAIL)
    if email is None or not row._mapping[ALLOWS_MUTE[Channel.EMAIL]]:
        return
    subscription = Subscription(row.project_id, row.user_id, row.notification_id)
    token = make_token(secret_box(settings.secret_keys), row.p_widget_secret, subscription)
    plan.sends[Channel.EMAIL] = replace(
        email, unsubscribe=unsubscribe_url(settings.public_url, token)
    )
