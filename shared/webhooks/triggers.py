"""The triggers that write a message's events into the outbox (SPEC §9) in the transaction of
the change itself, whichever code made it: a channel reaching a status an event is named after
(`message.sent`, ... `message.bounced`), and a widget message read (`message.read`). They write
only for a project with an enabled endpoint, so a project without webhooks pays one indexed
look-up per change of a channel's status, and nothing more.

The migrations call `create_statements` with the channels of their time, so a later channel
is a new migration that creates the triggers again."""

from __future__ import annotations

# A channel's statuses that are events, as `message.<status>`; `pending`, `sending` and
# `scheduled` are on the way, not outcomes.
EVENT_STATUSES = (
    "sent",
    "failed",
    "unknown",
    "skipped",
    "muted",
    "delivered",
    "bounced",
    "complained",
    "rejected",
)
_STATUSES = ", ".join(f"'{status}'" for status in EVENT_STATUSES)
_ENABLED = "SELECT 1 FROM webhooks w WHERE w.project_id = NEW.project_id AND w.enabled"


def _data(json_object: str, channel: str, status: str, with_provider: bool) -> str:
    """The event's `data` as the dialect's JSON constructor of the new row's columns."""
    pairs = [
        ("messageId", "NEW.id"),
        ("notificationId", "NEW.notification_id"),
        ("userId", "NEW.user_id"),
        ("channel", f"'{channel}'"),
        ("status", status),
        ("increment", "NEW.increment"),
    ]
    if with_provider:
        pairs += [
            ("provider", f"NEW.{channel}_provider"),
            ("providerMessageId", f"NEW.{channel}_provider_id"),
            ("error", f"NEW.{channel}_detail"),
        ]
    return f"{json_object}(" + ", ".join(f"'{key}', {value}" for key, value in pairs) + ")"


def _sqlite(channels: tuple[str, ...]) -> list[str]:
    now = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
    event_id = "'evt_' || lower(hex(randomblob(12)))"
    statements = []
    for channel in channels:
        status = f"NEW.{channel}_status"
        data = _data("json_object", channel, status, True)
        statements.append(
            f"CREATE TRIGGER webhook_events_{channel} AFTER UPDATE OF {channel}_status ON messages "
            f"WHEN {status} IS NOT OLD.{channel}_status AND {status} IN ({_STATUSES}) "
            f"AND EXISTS ({_ENABLED}) BEGIN "
            "INSERT INTO webhook_events (id, project_id, type, data, created_at) VALUES "
            f"({event_id}, NEW.project_id, 'message.' || {status}, {data}, {now}); END"
        )
    data = _data("json_object", "widget", "'read'", False)
    statements.append(
        "CREATE TRIGGER webhook_events_read AFTER UPDATE OF read_at ON messages "
        f"WHEN OLD.read_at IS NULL AND NEW.read_at IS NOT NULL AND EXISTS ({_ENABLED}) BEGIN "
        "INSERT INTO webhook_events (id, project_id, type, data, created_at) VALUES "
        f"({event_id}, NEW.project_id, 'message.read', {data}, {now}); END"
    )
    return statements


def _postgresql(channels: tuple[str, ...]) -> list[str]:
    event_id = "'evt_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 24)"
    insert = "INSERT INTO webhook_events (id, project_id, type, data, created_at) VALUES "
    body = []
    for channel in channels:
        status = f"NEW.{channel}_status"
        data = _data("jsonb_build_object", channel, status, True)
        body.append(
            f"IF {status} IS DISTINCT FROM OLD.{channel}_status AND {status} IN ({_STATUSES}) "
            f"THEN {insert}({event_id}, NEW.project_id, 'message.' || {status}, {data}, now()); "
            "END IF;"
        )
    data = _data("jsonb_build_object", "widget", "'read'", False)
    body.append(
        "IF OLD.read_at IS NULL AND NEW.read_at IS NOT NULL THEN "
        f"{insert}({event_id}, NEW.project_id, 'message.read', {data}, now()); END IF;"
    )
    changed = " OR ".join(
        [f"OLD.{c}_status IS DISTINCT FROM NEW.{c}_status" for c in channels]
        + ["(OLD.read_at IS NULL AND NEW.read_at IS NOT NULL)"]
    )
    return [
        "CREATE OR REPLACE FUNCTION herald_webhook_events() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF NOT EXISTS ({_ENABLED}) THEN RETURN NULL; END IF; "
        + " ".join(body)
        + " RETURN NULL; END $$",
        "CREATE TRIGGER webhook_events AFTER UPDATE ON messages FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION herald_webhook_events()",
    ]


def create_statements(dialect: str, channels: tuple[str, ...]) -> list[str]:
    """The statements creating the triggers for these channels on this dialect."""
    return _postgresql(channels) if dialect == "postgresql" else _sqlite(channels)


def drop_statements(dialect: str, channels: tuple[str, ...]) -> list[str]:
    """The statements dropping them."""
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS webhook_events ON messages",
            "DROP FUNCTION IF EXISTS herald_webhook_events()",
        ]
    names = [*channels, "read"]
    return [f"DROP TRIGGER IF EXISTS webhook_events_{name}" for name in names]
