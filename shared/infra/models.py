"""The data model: SQLAlchemy Core tables shared by the ingress, the workers and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from shared.channels import API_ORDER, Channel

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both dialects (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


projects = Table(
    "projects",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    # The widget secret as stored (shared.infra.secrets: sealed, or plaintext without a key),
    # and the one it replaced, valid until its expiry (`herald project rotate-widget-secret`).
    Column("widget_secret", String(512), nullable=False),
    Column("previous_widget_secret", String(512)),
    Column("previous_widget_secret_expires_at", UTCDateTime),
    Column("email_from", String(320)),
    Column("email_from_name", String(200)),
    Column("sms_sender_id", String(11)),
    Column("created_at", UTCDateTime, nullable=False),
    # The backend API budget (SPEC §2); NULL is the configured default.
    Column("rate_limit", Float),
    Column("rate_burst", Integer),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# The e-mail senders a project may send from (SPEC §1): an address, or a domain allowing every
# address at it; the domain in IDNA ASCII, all lower case (`shared.tenancy.senders.sender_form`).
allowed_senders = Table(
    "allowed_senders",
    metadata,
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("sender", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("project_id", "sender"),
)

# A project's own provider chains (SPEC §8): per channel, first `priority` tried first; `url`
# is the whole URL, sealed with HERALD_SECRET_KEY when it carries a secret.
project_providers = Table(
    "project_providers",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("project_id", String(40), nullable=False),
    Column("id", String(128), nullable=False),
    Column("email", String(320)),
    Column("telephone", String(20)),
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("photo_url", String(2048)),
    Column("language", String(35)),
    Column("timezone", String(64)),
    Column("country", String(2)),
    Column("data", Json, nullable=False),
    Column("preferences", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("project_id", String(40), nullable=False),
    Column("id", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    # Per channel (declared in shared.channels): whether the notification uses it, and whether
    # a user may mute it.
    *(channel.with_column for channel in API_ORDER),
    *(channel.allow_mute_column for channel in API_ORDER),
    Column("default_language", String(35), nullable=False),
    Column("stack_timeout", Integer, nullable=False),
    Column("templates", Json, nullable=False),
    # {"start": "HH:MM", "end": "HH:MM", "timezone"?}: see shared.notifications.quiet_hours;
    # NULL for none.
    Column("quiet_hours", Json),
    # Bumped on every upsert. The compiled-template cache keys on the template text, not on this.
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
)


messages = Table(
    "messages",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("project_id", String(40), nullable=False),
    Column("id", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("notification_id", String(128), nullable=False),
    Column("data", Json, nullable=False),
    Column("increment_id", String(128)),
    Column("increment", Integer, nullable=False, default=1),
    # A MessageStatus: queued -> sent | failed; scheduled -> queued when sendAt comes.
    Column("status", String(16), nullable=False),
    Column("error", String(64)),
    Column("error_message", Text),
    Column("language", String(35)),
    # Per channel (declared in shared.channels): its status, its detail (a skip reason or the
    # provider's error), its provider message id, the provider that took it and every provider
    # tried; NULL when the notification doesn't use it.
    *(
        column
        for c in Channel
        for column in (c.status, c.detail, c.provider_id, c.provider, c.attempts)
    ),
    Column("widget_content", Text),
    Column("widget_icon", String(2048)),
    Column("widget_link", String(2048)),
    Column("widget_override", Json),
    Column("email_override", Json),
    Column("push_override", Json),
    Column("sending_since", UTCDateTime),
    Column("scheduled_at", UTCDateTime),
    Column("enqueued_at", UTCDateTime),
    Column("read_at", UTCDateTime),
    # Feed order: set on creation and again when a stacked message is incremented.
    Column("feed_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Deliveries started while the message was queued; the fourth finds three that died.
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("project_id", "id"),
    Index("ix_messages_user_feed", "project_id", "user_id", "feed_at"),
    Index("ix_messages_project_pk", "project_id", "pk"),
    Index("ix_messages_status_due", "status", "scheduled_at"),
)

# Every id a send claimed, whether it created a message or was stacked onto one: an id is
# accepted once, ever, so a retried request can never send or increment twice.
message_ids = Table(
    "message_ids",
    metadata,
    Column("project_id", String(40), nullable=False),
    Column("id", String(128), nullable=False),
    Column("message_id", String(128), nullable=False),
    PrimaryKeyConstraint("project_id", "id"),
)

# One row per open stack key; its row lock serialises concurrent increments.
stacks = Table(
    "stacks",
    metadata,
    Column("project_id", String(40), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("notification_id", String(128), nullable=False),
    Column("increment_id", String(128), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("project_id", "user_id", "notification_id", "increment_id"),
)

# Delivery feedback: SES events find their message by the e-mail's provider id.
Index("ix_messages_email_provider_id", messages.c.email_provider_id)

# A user's push devices (SPEC §10): an FCM or APNs token, or a Web Push subscription (its
# endpoint in `address`, its keys beside); `address` is unique per user.
devices = Table(
    "devices",
    metadata,
    Column("pk", BigId, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("project_id", String(40), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("address", String(2048), nullable=False),
    Column("p256dh", String(128)),
    Column("auth", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_id", "user_id", "address"),
)

# Each device's push of a message (SPEC §10), claimed `pending` -> `sending` by a check-and-set
# before it goes (at most one push a device), then its outcome; `to` is the token or endpoint
# shortened, as shown back.
push_sends = Table(
    "push_sends",
    metadata,
    Column("message_pk", BigId, ForeignKey("messages.pk", ondelete="CASCADE"), nullable=False),
    Column("device_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("to", String(64)),
    Column("status", String(16), nullable=False),
    Column("detail", Text),
    Column("provider", String(64)),
    Column("provider_id", String(255)),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("message_pk", "device_id"),
)

# Addresses a permanent bounce or a complaint stopped e-mail to, per project (stored lower-case).
suppressions = Table(
    "suppressions",
    metadata,
    Column("project_id", String(40), nullable=False),
    Column("address", String(320), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("project_id", "address"),
)

# What changed in a user's feed, in order: the id is the stream's event id, and a reconnecting
# page replays the rows after the last id it saw (see shared.feed.events).
feed_events = Table(
    "feed_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("project_id", String(40), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("message_id", String(128)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_feed_events_user_id", "project_id", "user_id", "id"),
)
