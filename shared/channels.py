"""The channels a message goes on, each declared once: its name, its columns, its template
fields and their limits, its flags and its statuses. Everything else derives from here: the
tables, the notification and preference models, the template rules, the delivery's reads.

A channel's statuses follow `DELIVERY_MOVES` (and, for e-mail, its feedback moves): a message's
channel starts `pending` and its delivery moves it to a final status. A message follows
`MESSAGE_MOVES`: `queued` (or `scheduled` until its sendAt) to `sent` or `failed`.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Column, String, Text

from shared.infra.validation import Email, Name, PushData, TemplateText


class ChannelStatus(StrEnum):
    """Where one channel of a message stands."""

    PENDING = "pending"  # waiting for its delivery
    SCHEDULED = "scheduled"  # held by quiet hours until the message's scheduled_at
    SENDING = "sending"  # claimed: its provider call is under way
    SENT = "sent"  # the provider took it, or the widget shows it
    FAILED = "failed"  # not sent: the detail says why
    SKIPPED = "skipped"  # not sent: no address, or a suppressed one
    MUTED = "muted"  # not sent: the user muted it
    UNKNOWN = "unknown"  # the provider call was cut short: it may have gone
    DELIVERED = "delivered"  # e-mail feedback: the receiving server took it
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    REJECTED = "rejected"


S = ChannelStatus
# Which moves a delivery makes from each status; a status that has none is final. A claimed
# send that stopped before anything went (`sending` -> `pending`) is sent by the next delivery.
DELIVERY_MOVES: dict[ChannelStatus, frozenset[ChannelStatus]] = {
    S.PENDING: frozenset({S.SENDING, S.SENT, S.SCHEDULED, S.SKIPPED, S.MUTED, S.FAILED}),
    S.SCHEDULED: frozenset({S.SENDING, S.SKIPPED, S.MUTED, S.FAILED}),
    S.SENDING: frozenset({S.SENT, S.FAILED, S.UNKNOWN, S.PENDING}),
}
# E-mail after delivery, from SES feedback: a channel only moves forward.
EMAIL_FEEDBACK = {
    S.SENT: frozenset({S.DELIVERED, S.REJECTED, S.BOUNCED, S.COMPLAINED}),
    S.DELIVERED: frozenset({S.BOUNCED, S.COMPLAINED}),
}
WAITING = frozenset(DELIVERY_MOVES) - {S.SENDING}  # a delivery will decide it
FINAL = frozenset(ChannelStatus) - frozenset(DELIVERY_MOVES)  # nothing left to do
NOT_TRIED = frozenset({S.SKIPPED, S.MUTED})  # final without a provider call
FAILURES = frozenset({S.FAILED, S.UNKNOWN})  # the delivery did not, or may not have, sent it
ERRORS = FAILURES | {S.BOUNCED, S.COMPLAINED, S.REJECTED}  # an error on the operator page


class MessageStatus(StrEnum):
    """Where a message stands."""

    QUEUED = "queued"  # waiting for its delivery
    SCHEDULED = "scheduled"  # held until its sendAt, or by quiet hours
    SENT = "sent"  # every channel final
    FAILED = "failed"  # its templates could not render, or its delivery kept dying


M = MessageStatus
MESSAGE_MOVES: dict[MessageStatus, frozenset[MessageStatus]] = {
    M.QUEUED: frozenset({M.SENT, M.FAILED, M.SCHEDULED}),
    M.SCHEDULED: frozenset({M.QUEUED, M.FAILED}),
    M.SENT: frozenset(),
    M.FAILED: frozenset(),
}
MESSAGE_FINAL = frozenset(status for status, moves in MESSAGE_MOVES.items() if not moves)


@dataclass(frozen=True)
class Limit:
    """The most a rendered field may hold: `bytes` of UTF-8 or `characters`."""

    most: int
    unit: str = "characters"


@dataclass(frozen=True)
class TemplateField:
    """One field of a channel's templates, as stored, validated and rendered."""

    name: str  # as the API spells it
    kind: Any = TemplateText  # the type a stored template's value is validated as
    templated: bool = True  # False: a literal value (a header), never rendered
    escaped: bool = False  # HTML: autoescaped
    header: bool = False  # one line: every control character becomes a space
    limit: Limit = Limit(1 << 20)
    project_default: str | None = None  # the `projects` column used when the template has none
    blank: str | None = None  # what the content holds when the template has none
    made_from: str | None = None  # the HTML field it is made from when the template has none
    needed: str | None = None  # the channel fails with this detail when it is empty

    @property
    def attribute(self) -> str:
        """Its Python name on the template model: `from` -> `from_`."""
        return f"{self.name}_" if keyword.iskeyword(self.name) else self.name


@dataclass(frozen=True)
class Declaration:
    """Everything Herald knows of a channel; `Channel` members are made from these."""

    name: str
    title: str  # as the API's flags spell it: `withSMS`, `allowMuteSMS`, `muteSMS`
    fields: tuple[TemplateField, ...]
    required: tuple[str, ...]  # what the default language's template must have when it's on
    required_one_of: tuple[str, ...] = ()  # and at least one of these
    address: str | None = None  # the `users` column it is sent to
    devices: bool = False  # sent to each of the user's devices (push); neither: the feed's
    missing: str | None = None  # the detail of its skip when the user has no address
    result_error: str | None = None  # its key in a `messages.send` result when it failed
    project_columns: tuple[str, ...] = ()  # the `projects` settings its content takes
    feedback: Mapping[ChannelStatus, frozenset[ChannelStatus]] = field(default_factory=dict)


class Channel(StrEnum):
    """A channel of a message, made from its declaration (`Channel.EMAIL.fields`, ...)."""

    declared: Declaration
    status: Column  # on `messages`: a `ChannelStatus`; NULL when the notification doesn't use it
    detail: Column  # why it was skipped, muted or failed: a code, or the provider's error
    provider_id: Column  # the provider's message id of a sent e-mail or SMS
    provider: Column  # the name of the provider of its chain that took it
    attempts: Column  # every provider tried: [{provider, outcome, error, at}] (JSON)
    with_column: Column  # on `notifications`: the notification uses it
    allow_mute_column: Column  # a user may mute it for this notification

    def __new__(cls, declared: Declaration) -> Channel:
        member = str.__new__(cls, declared.name)
        member._value_ = declared.name
        member.declared = declared
        member.status = Column(f"{declared.name}_status", String(16))
        member.detail = Column(f"{declared.name}_detail", Text)
        member.provider_id = Column(f"{declared.name}_provider_id", String(255))
        member.provider = Column(f"{declared.name}_provider", String(64))
        member.attempts = Column(f"{declared.name}_attempts", JSON)
        member.with_column = Column(f"with_{declared.name}", Boolean, nullable=False)
        member.allow_mute_column = Column(f"allow_mute_{declared.name}", Boolean, nullable=False)
        return member

    EMAIL = Declaration(
        "email",
        "Email",
        fields=(
            TemplateField("subject", header=True, limit=Limit(998), blank=""),
            TemplateField("html", escaped=True, limit=Limit(512 * 1024, "bytes")),
            TemplateField("text", limit=Limit(512 * 1024, "bytes"), made_from="html"),
            TemplateField(
                "from",
                Email,
                templated=False,
                header=True,
                project_default="email_from",
                needed="emailFrom/missing: neither the template nor the project sets From",
            ),
            TemplateField(
                "fromName", Name, templated=False, header=True, project_default="email_from_name"
            ),
            TemplateField("replyTo", Email, templated=False, header=True),
        ),
        required=("subject",),
        required_one_of=("html", "text"),
        address="email",
        missing="userEmail/missing",
        result_error="emailError",
        feedback=EMAIL_FEEDBACK,
    )
    SMS = Declaration(
        "sms",
        "SMS",
        fields=(TemplateField("text", limit=Limit(1600), blank=""),),
        required=("text",),
        address="telephone",
        missing="userTelephone/missing",
        result_error="smsError",
        project_columns=("sms_sender_id",),
    )
    WIDGET = Declaration(
        "widget",
        "Widget",
        fields=(
            TemplateField("content", escaped=True, limit=Limit(64 * 1024, "bytes")),
            TemplateField("icon", limit=Limit(2048)),
            TemplateField("link", limit=Limit(2048)),
        ),
        required=("content",),
    )
    PUSH = Declaration(
        "push",
        "Push",
        fields=(
            TemplateField("title", header=True, limit=Limit(256), blank=""),
            TemplateField("body", limit=Limit(4096), blank=""),
            TemplateField("icon", header=True, limit=Limit(2048)),
            TemplateField("url", header=True, limit=Limit(2048)),
            TemplateField("data", PushData, templated=False),
        ),
        required=("title",),
        devices=True,
        missing="pushTokens/missing",
        result_error="pushError",
    )

    @property
    def fields(self) -> tuple[TemplateField, ...]:
        """The fields of its templates."""
        return self.declared.fields

    @property
    def sent_by_provider(self) -> bool:
        """E-mail, SMS and push go through a provider (and wait out quiet hours); the widget
        is shown in the user's feed."""
        return self.declared.address is not None or self.declared.devices

    @property
    def with_flag(self) -> str:
        """The notification's flag turning it on: `withEmail`."""
        return f"with{self.declared.title}"

    @property
    def allow_mute_flag(self) -> str:
        """The notification's flag letting a user mute it: `allowMuteEmail`."""
        return f"allowMute{self.declared.title}"

    @property
    def preference(self) -> str:
        """The user's preference muting it for one notification: `muteEmail`."""
        return f"mute{self.declared.title}"

    def muted(self, allows_mute: bool, preference: Mapping[str, Any]) -> bool:
        """The mute rule: the notification allows muting this channel and the user's
        preference for that notification mutes it."""
        return bool(allows_mute and preference.get(self.preference))

    def moves(self, status: ChannelStatus) -> frozenset[ChannelStatus]:
        """The statuses this channel may move to from `status`."""
        return DELIVERY_MOVES.get(status, frozenset()) | self.declared.feedback.get(
            status, frozenset()
        )

    def sources(self, status: ChannelStatus) -> frozenset[ChannelStatus]:
        """The statuses this channel may move to `status` from."""
        return frozenset(source for source in ChannelStatus if status in self.moves(source))


# How the API lists a notification's channels (SPEC §1); delivery goes in `Channel`'s order.
API_ORDER = (Channel.WIDGET, Channel.EMAIL, Channel.SMS, Channel.PUSH)
assert set(API_ORDER) == set(Channel), "API_ORDER lists every channel"
