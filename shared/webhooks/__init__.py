"""Outbound webhooks (SPEC §9): a project's endpoints (`endpoints.py`), where they may post
(`addresses.py`), the events and their outbox (`events.py`, `tables.py`, `triggers.py`)."""

from shared.webhooks.addresses import Target, check_url, is_public, target
from shared.webhooks.endpoints import (
    MAX_WEBHOOKS,
    delete_webhook,
    list_webhooks,
    rotate_secret,
    signing_secrets,
    upsert_webhook,
    webhook_json,
)
from shared.webhooks.events import EVENT_TYPES, event_body, record_event, wants
from shared.webhooks.tables import webhook_deliveries, webhook_events, webhooks

__all__ = [
    "EVENT_TYPES",
    "MAX_WEBHOOKS",
    "Target",
    "check_url",
    "delete_webhook",
    "event_body",
    "is_public",
    "list_webhooks",
    "record_event",
    "rotate_secret",
    "signing_secrets",
    "target",
    "upsert_webhook",
    "wants",
    "webhook_deliveries",
    "webhook_events",
    "webhook_json",
    "webhooks",
]
