"""Outbound webhooks (SPEC §9): a project's endpoints (`endpoints.py`), where they may post
(`addresses.py`), the events and their outbox (`events.py`, `tables.py`, `triggers.py`), the
user events (`user_events.py`), an endpoint's deliveries and its test post (`deliveries.py`),
and a replay (`replay.py`, imported from there: its name is the module's)."""

from shared.webhooks.addresses import Target, check_url, is_public, target
from shared.webhooks.deliveries import DeliveryFilter, list_deliveries, send_test
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
from shared.webhooks.user_events import has_enabled_webhook, preferences_events

__all__ = [
    "DeliveryFilter",
    "EVENT_TYPES",
    "MAX_WEBHOOKS",
    "Target",
    "check_url",
    "delete_webhook",
    "event_body",
    "has_enabled_webhook",
    "is_public",
    "list_deliveries",
    "list_webhooks",
    "preferences_events",
    "record_event",
    "rotate_secret",
    "send_test",
    "signing_secrets",
    "target",
    "upsert_webhook",
    "wants",
    "webhook_deliveries",
    "webhook_events",
    "webhook_json",
    "webhooks",
]
