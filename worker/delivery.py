"""The `deliver_message` actor's work: claim each channel, render, send, record the outcome.

At most one send per channel: before a provider is called, the channel is committed as
`sending` by a check-and-set that applies only if the message's status and channel statuses
are still as the worker read them (of two workers racing, one claims and the other reads
again). A redelivered job skips final
channels, leaves a fresh `sending` to the worker that owns it, and records a stale one (its
worker died during the provider call) as `unknown` instead of sending again.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import Engine, String, bindparam, case, select, update

from shared.config import Settings
from shared.db import autocommit
from shared.messages import FINAL, LOAD_COLUMNS, RESULT_COLUMNS, message_result
from shared.models import CHANNELS, messages, notifications, projects, users, utcnow
from shared.suppressions import SUPPRESSED, email_suppressed
from shared.templates import RenderFailed, build_context, pick_language, render_channel
from shared.users import PROFILE_FIELDS
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
    select(
        *(messages.c[name] for name in LOAD_COLUMNS),
        *_USER,
        *_NOTIFICATION,
        *_PROJECT,
        email_suppressed(),
    )
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
            messages.c[f"{c}_status"].is_not_distinct_from(bindparam(f"seen_{c}", type_=String))
            for c in CHANNELS
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
STALE_SENDING = "unknown: the worker stopped during the provider call; not sent again"
MUTE_FLAGS = {"widget": "muteWidget", "email": "muteEmail", "sms": "muteSMS"}


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
    """Deliver one message on its channels; return its `messages.send` result."""
    for _ in range(CLAIM_ATTEMPTS):
        now = utcnow()
        with autocommit(services.engine) as connection:
            row = connection.execute(_LOAD, {"message_pk": message_pk}).first()
            if row is None:
                return {
                    "id": None,
                    "ok": False,
                    "status": "failed",
                    "channels": {},
                    "error": "message/notFound",
                    "message": "The message no longer exists.",
                }
            if row.status == "scheduled" and row.scheduled_at > now:
                return message_result(row)
            if row.status in ("sent", "failed") and not (refresh_widget and row.widget_status):
                return message_result(row)
            plan = _plan(services.settings, row, now, refresh_widget)
            claimed = connection.execute(*_claim(row, plan.changes)).first()
        if claimed is not None:
            break
    else:  # the row kept changing under us: whoever changed it delivers it
        return message_result(row)
    if not plan.sends:
        _count(plan.changes)
        return message_result(claimed)

    outcomes = _send_all(services, plan.sends)
    # `sent` once every channel is final in this worker's view; a channel another worker
    # still had in flight leaves the message `queued`, and the sweeper's next delivery of it
    # finds every channel final and marks it `sent`.
    finished = {f"{c}_status": claimed._mapping[f"{c}_status"] for c in CHANNELS}
    finished.update({k: v for k, v in outcomes.items() if k.endswith("_status")})
    done = all(status is None or status in FINAL for status in finished.values())
    values = {**outcomes, "status": "sent" if done else claimed.status, "updated_at": utcnow()}
    with autocommit(services.engine) as connection:
        saved = connection.execute(_SAVE, {"message_pk": message_pk, **values}).one()
    _count(outcomes)
    return message_result(saved)


def _claim(row, changes: dict[str, Any]) -> tuple:
    """The check-and-set of a plan: it applies only if the message's status and channel
    statuses are as they were read."""
    params = {"message_pk": row.pk, "seen_status": row.status, "seen_increment": row.increment}
    params.update({f"seen_{c}": row._mapping[f"{c}_status"] for c in CHANNELS})
    changes = dict(changes)
    if "widget_content" not in changes:
        return _CLAIM, {**params, **changes}
    params.update({f"new_{name}": changes.pop(name) for name in WIDGET_FIELDS})
    return _CLAIM_WITH_WIDGET, {**params, **changes}


@dataclass
class Plan:
    """The row changes of the claim transaction and the sends it claimed."""

    changes: dict[str, Any]
    sends: dict[str, Email | Sms]


def _plan(settings: Settings, row, now, refresh_widget: bool) -> Plan:
    """Decide every channel of a message from the row as read."""
    mapping = row._mapping
    changes: dict[str, Any] = {"updated_at": now}
    if row.n_id is None:
        return _fail(
            row,
            changes,
            "notification/notFound",
            f"The notification {row.notification_id!r} was deleted.",
        )
    preferences = (row.user_preferences or {}).get(row.notification_id, {})
    stale_before = now - timedelta(seconds=settings.send_time_limit)
    to_render: list[str] = []
    in_flight = False
    for channel in CHANNELS:
        status = mapping[f"{channel}_status"]
        if status == "pending":
            if mapping[f"n_allow_mute_{channel}"] and preferences.get(MUTE_FLAGS[channel]):
                changes.update({f"{channel}_status": "muted", f"{channel}_detail": "user/muted"})
            elif channel == "email" and not row.user_email:
                changes.update(email_status="skipped", email_detail="userEmail/missing")
            elif channel == "email" and row.email_suppressed:
                changes.update(email_status="skipped", email_detail=SUPPRESSED)
            elif channel == "sms" and not row.user_telephone:
                changes.update(sms_status="skipped", sms_detail="userTelephone/missing")
            else:
                to_render.append(channel)
        elif status == "sending":
            if row.sending_since is None or row.sending_since < stale_before:
                changes.update(
                    {
                        f"{channel}_status": "unknown",
                        f"{channel}_detail": STALE_SENDING,
                    }
                )
            else:
                in_flight = True
        elif channel == "widget" and status == "sent" and refresh_widget:
            to_render.append(channel)

    if to_render:
        changes["language"] = pick_language(
            row.n_templates or {}, row.user_language, row.n_default_language
        )
    try:
        rendered = _render(row, to_render)
    except RenderFailed as exc:
        return _fail(row, changes, exc.code, exc.message, to_render)
    sends: dict[str, Email | Sms] = {}
    for channel, fields in rendered.items():
        if channel == "widget":
            changes.update(
                widget_status="sent",
                widget_content=fields.get("content"),
                widget_icon=fields.get("icon"),
                widget_link=fields.get("link"),
            )
        elif channel == "email":
            from_address = fields.get("from") or row.email_from
            if not from_address:
                changes.update(
                    email_status="failed",
                    email_detail=(
                        "emailFrom/missing: neither the template nor the project sets From"
                    ),
                )
                continue
            sends["email"] = Email(
                row.id,
                row.user_email,
                from_address,
                fields.get("fromName") or row.email_from_name,
                fields.get("replyTo"),
                fields.get("subject") or "",
                fields.get("html"),
                fields.get("text"),
            )
        else:
            sends["sms"] = Sms(
                row.id, row.user_telephone, fields.get("text") or "", row.sms_sender_id
            )
    for channel in sends:
        changes[f"{channel}_status"] = "sending"
    if sends:
        changes["sending_since"] = now
    statuses = [changes.get(f"{c}_status", mapping[f"{c}_status"]) for c in CHANNELS]
    if not sends and not in_flight and all(s is None or s in FINAL for s in statuses):
        changes["status"] = "sent"
    return Plan(changes, sends)


def _render(row, channels: list[str]) -> dict[str, dict[str, str | None]]:
    """Render the channels in the user's language (falling back per SPEC), overrides applied."""
    templates = row.n_templates or {}
    profile = {name: row._mapping[f"user_{column}"] for name, column in PROFILE_FIELDS.items()}
    profile["id"] = row.user_id
    context = build_context(
        profile,
        row.user_data or {},
        row.data or {},
        row.increment,
        row.id,
        {"id": row.notification_id, "name": row.n_name},
    )
    overrides = {"widget": row.widget_override or {}, "email": row.email_override or {}}
    rendered = {}
    for channel in channels:
        having = {lang: t for lang, t in templates.items() if channel in t}
        language = pick_language(having, row.user_language, row.n_default_language)
        fields = {**having.get(language, {}).get(channel, {}), **overrides.get(channel, {})}
        rendered[channel] = render_channel(language, channel, fields, context)
    return rendered


def _fail(
    row, changes: dict[str, Any], code: str, message: str, channels: list[str] | None = None
) -> Plan:
    """The message can't be delivered: it and its undecided channels fail with this code."""
    for channel in CHANNELS if channels is None else channels:
        if row._mapping[f"{channel}_status"] == "pending":
            changes.update({f"{channel}_status": "failed", f"{channel}_detail": code})
    changes.update(status="failed", error=code, error_message=message)
    return Plan(changes, {})


def _send_all(services: Services, sends: dict[str, Email | Sms]) -> dict[str, Any]:
    """Send every claimed channel; the e-mail and the SMS of one message go at the same time."""
    outcomes: dict[str, Any] = {}
    channels = list(sends.items())
    others = [
        services.pool.submit(_send, services, channel, content) for channel, content in channels[1:]
    ]
    outcomes.update(_send(services, *channels[0]))
    for other in others:
        outcomes.update(other.result())
    return outcomes


def _send(services: Services, channel: str, content: Email | Sms) -> dict[str, Any]:
    """Call the channel's provider; the outcome as row changes."""
    provider = services.providers[channel]
    try:
        with SEND_SECONDS.labels(channel).time():
            provider_id = send_with_retries(
                provider, content, services.settings.provider_retry_budget
            )
    except ProviderError as exc:
        status = "unknown" if exc.unknown else "failed"
        return {f"{channel}_status": status, f"{channel}_detail": str(exc)}
    return {
        f"{channel}_status": "sent",
        f"{channel}_provider_id": provider_id,
        f"{channel}_detail": None,
    }


def _count(changes: dict[str, Any]) -> None:
    for channel in CHANNELS:
        status = changes.get(f"{channel}_status")
        if status in FINAL:
            OUTCOMES.labels(channel, status).inc()
