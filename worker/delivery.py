"""The `deliver_message` actor's work: claim a message's channels, send, record the outcomes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dramatiq.middleware.time_limit import TimeLimitExceeded
from prometheus_client import Counter, Histogram
from sqlalchemy import Engine, Row, String, Update, bindparam, case, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from shared.config import Settings
from shared.db import autocommit
from shared.events import widget_written
from shared.messages import FINAL
from shared.models import messages, notifications, projects, users, utcnow
from shared.results import LOAD_COLUMNS, RESULT_COLUMNS, message_result
from shared.templates import render_time_limit
from shared.users import PROFILE_FIELDS
from worker.attempts import MAX_ATTEMPTS, crash_message, start_delivery
from worker.channels import IN_CALL, PENDING, Channel, ChannelState
from worker.plan import Plan, plan_delivery
from worker.providers import Email, Provider, ProviderError, Sms, send_with_retries

OUTCOMES = Counter(
    "herald_channel_outcomes_total", "Final channel outcomes.", ["channel", "status"]
)
SEND_SECONDS = Histogram("herald_provider_send_seconds", "Provider call time.", ["channel"])

_USER = [users.c[column].label(f"user_{column}") for column in PROFILE_FIELDS.values()]
_USER += [users.c.data.label("user_data"), users.c.preferences.label("user_preferences")]
_NOTIFICATION = [
    notifications.c[column].label(f"n_{column}")
    for column in (
        "name",
        "templates",
        "default_language",
        "allow_mute_widget",
        "allow_mute_email",
        "allow_mute_sms",
    )
]
_NOTIFICATION.append(notifications.c.id.label("n_id"))
_PROJECT = [projects.c.email_from, projects.c.email_from_name, projects.c.sms_sender_id]
# Built once: the row of a message with what delivery needs of its user, notification and
# project; the check-and-set that claims channels only if the row is as it was read; and the
# update that writes the outcome. Each runs as one autocommitted statement.
_LOAD = (
    select(*(messages.c[name] for name in LOAD_COLUMNS), *_USER, *_NOTIFICATION, *_PROJECT)
    .select_from(
        messages.join(projects, projects.c.id == messages.c.project_id)
        .outerjoin(
            users,
            (users.c.project_id == messages.c.project_id) & (users.c.id == messages.c.user_id),
        )
        .outerjoin(
            notifications,
            (notifications.c.project_id == messages.c.project_id)
            & (notifications.c.id == messages.c.notification_id),
        )
    )
    .where(messages.c.pk == bindparam("message_pk"))
)
_CLAIM = (
    update(messages)
    .where(
        messages.c.pk == bindparam("message_pk"),
        messages.c.status == bindparam("seen_status"),
        *(
            channel.status.is_not_distinct_from(bindparam(f"seen_{channel}", type_=String))
            for channel in Channel
        ),
    )
    .returning(*RESULT_COLUMNS)
)
# The widget's rendering is written only if no increment came in since the row was read; if one
# did, the refresh job that increment enqueued renders it again with the newer data. Stacking
# never blocks a claim, and stale content never overwrites newer content.
WIDGET_FIELDS = ("widget_content", "widget_icon", "widget_link")
_CLAIM_WITH_WIDGET = _CLAIM.values(
    {
        messages.c[name]: case(
            (messages.c.increment == bindparam("seen_increment"), bindparam(f"new_{name}")),
            else_=messages.c[name],
        )
        for name in WIDGET_FIELDS
    }
)
_SAVE = update(messages).where(messages.c.pk == bindparam("message_pk")).returning(*RESULT_COLUMNS)
CLAIM_ATTEMPTS = 5
# Every database error that a new connection may not meet: an outcome write is tried again for
# up to this long (a provider id is worth keeping across a database blip).
RETRIED_WRITES = (OperationalError, InterfaceError)
WRITE_BUDGET = 15.0
GONE = {
    "id": None,
    "ok": False,
    "status": "failed",
    "channels": {},
    "error": "message/notFound",
    "message": "The message no longer exists.",
}


@dataclass
class Services:
    """What the actor needs, built once per process."""

    settings: Settings
    engine: Engine
    providers: dict[str, Provider]
    pool: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(self.settings.worker_threads, "herald-send")


def deliver_message(
    services: Services, message_pk: int, refresh_widget: bool = False
) -> dict[str, Any]:
    """Deliver one message on its channels; return its `messages.send` result.

    At most one send per channel: before a provider is called, the channel is committed as
    `sending` by a check-and-set that applies only if the message's status and channel statuses
    are still as the worker read them (of two workers racing, one claims and the other reads
    again). A redelivered job skips final channels, leaves a fresh `sending` to the worker that
    owns it, and records a stale one (its worker died during the provider call) as `unknown`
    instead of sending again. A message whose delivery died `MAX_ATTEMPTS` times (killed, or
    past the time limit) fails with `delivery/crashed`.
    """
    attempt = 0 if refresh_widget else start_delivery(services.engine, message_pk)
    if attempt > MAX_ATTEMPTS:
        return crash_message(services.engine, message_pk) or _deliver(
            services, message_pk, refresh_widget
        )
    try:
        return _deliver(services, message_pk, refresh_widget)
    except TimeLimitExceeded:
        if attempt < MAX_ATTEMPTS:
            raise
        return crash_message(services.engine, message_pk) or _deliver(
            services, message_pk, refresh_widget
        )


def _deliver(services: Services, message_pk: int, refresh_widget: bool) -> dict[str, Any]:
    """Claim, send and record: one delivery of a message."""
    claimed = _claim_channels(services, message_pk, refresh_widget)
    if not isinstance(claimed, Claimed):
        return claimed
    if not claimed.plan.sends:
        _count(claimed.plan.channels)
        return message_result(claimed.row)
    outcomes: dict[Channel, ChannelState] = {}
    try:
        _send_all(services, claimed.plan.sends, outcomes)
    finally:  # interrupted too (the time limit): what went is kept, what didn't is pending
        outcomes = {channel: outcomes.get(channel, PENDING) for channel in claimed.plan.sends}
        saved = _save(services, claimed, outcomes)
    _count(outcomes)
    return message_result(saved)


def _save(services: Services, claimed: Claimed, outcomes: dict[Channel, ChannelState]) -> Row:
    """Write the outcomes; the message is `sent` once every channel is final in this worker's
    view (a channel another worker still has in flight leaves it `queued`, and the sweeper's
    next delivery of it finds every channel final). Retried on a database error for up to
    `WRITE_BUDGET` s; past it the channels stay `sending` and become `unknown`."""
    states = {channel: channel.state(claimed.row) for channel in Channel} | outcomes
    done = all(state.final for state in states.values())
    values = {"status": "sent" if done else claimed.row.status, "updated_at": utcnow()}
    for channel, state in outcomes.items():
        values.update(state.values(channel))
    retrying = Retrying(
        retry=retry_if_exception_type(RETRIED_WRITES),
        stop=stop_after_delay(min(WRITE_BUDGET, services.settings.send_time_limit / 2)),
        wait=wait_exponential_jitter(initial=0.1, max=2.0),
        reraise=True,
    )
    for attempt in retrying:
        with attempt, autocommit(services.engine) as connection:
            return connection.execute(_SAVE, {"message_pk": claimed.row.pk, **values}).one()
    raise AssertionError("unreachable: tenacity either returns or raises")


@dataclass(frozen=True)
class Claimed:
    """A plan whose claim applied, and the message's row as the claim left it."""

    plan: Plan
    row: Row


def _claim_channels(
    services: Services, message_pk: int, refresh_widget: bool
) -> Claimed | dict[str, Any]:
    """Read the message, plan it and claim its channels; or its answer if there's nothing to
    claim (gone, not due, already final, or changed under us on every attempt)."""
    for _ in range(CLAIM_ATTEMPTS):
        now = utcnow()
        with autocommit(services.engine) as connection:
            row = connection.execute(_LOAD, {"message_pk": message_pk}).first()
            if row is None:
                return dict(GONE)
            if row.status == "scheduled" and row.scheduled_at > now:
                return message_result(row)
            if row.status in ("sent", "failed") and not (refresh_widget and row.widget_status):
                return message_result(row)
            stale_before = now - timedelta(seconds=services.settings.send_time_limit)
            with render_time_limit(services.settings.render_time_limit):  # all its templates
                plan = plan_delivery(row, now, stale_before, refresh_widget)
            if row.status in ("sent", "failed"):  # a widget refresh never changes it
                for name in ("status", "error", "error_message"):
                    plan.changes.pop(name, None)
            claimed = connection.execute(*_claim(row, plan)).first()
        if claimed is not None:
            if plan.widget is not None:  # the widget was rendered: the feed's event
                widget_written(services.settings, services.engine, row)
            return Claimed(plan, claimed)
    return message_result(row)  # the row kept changing: whoever changed it delivers it


def _claim(row: Row, plan: Plan) -> tuple[Update, dict[str, Any]]:
    """The check-and-set of a plan: it applies only if the message's status and channel
    statuses are as they were read."""
    params = {"message_pk": row.pk, "seen_status": row.status, "seen_increment": row.increment}
    params.update({f"seen_{channel}": row._mapping[channel.status] for channel in Channel})
    params.update(plan.values())
    if plan.widget is None:
        return _CLAIM, params
    params.update({f"new_{name}": value for name, value in plan.widget.values().items()})
    return _CLAIM_WITH_WIDGET, params


def _send_all(
    services: Services, sends: dict[Channel, Email | Sms], outcomes: dict[Channel, ChannelState]
) -> None:
    """Send every claimed channel into `outcomes`; the e-mail and the SMS of one message go at
    the same time, and an interrupted one still waits for the other's outcome."""
    first, *others = sends.items()
    futures = [
        services.pool.submit(_send, services, channel, content, outcomes)
        for channel, content in others
    ]
    try:
        _send(services, *first, outcomes)
    finally:
        wait(futures)


def _send(
    services: Services,
    channel: Channel,
    content: Email | Sms,
    outcomes: dict[Channel, ChannelState],
) -> None:
    """Build the channel's request and call its provider. `outcomes[channel]` says at each step
    what is true if the delivery stops there: nothing went while building, the send may have
    gone once the call started."""
    provider = services.providers[channel]
    outcomes[channel] = PENDING
    try:
        request = provider.build(content)
    except Exception as exc:  # noqa: BLE001 - the provider's library refused it: nothing went
        outcomes[channel] = ChannelState("failed", f"build/failed: {type(exc).__name__}: {exc}")
        return
    outcomes[channel] = ChannelState("unknown", IN_CALL)
    budget = services.settings.provider_retry_budget
    try:
        with SEND_SECONDS.labels(channel).time():
            provider_id = send_with_retries(provider, request, budget)
    except ProviderError as exc:
        outcomes[channel] = ChannelState("unknown" if exc.unknown else "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - it broke during the call: it may have gone
        outcomes[channel] = ChannelState("unknown", f"unknown: {type(exc).__name__}: {exc}")
    else:
        outcomes[channel] = ChannelState("sent", provider_id=provider_id)


def _count(states: dict[Channel, ChannelState]) -> None:
    """Count the final outcomes among these channel states."""
    for channel, state in states.items():
        if state.status in FINAL:
            OUTCOMES.labels(channel, state.status).inc()
