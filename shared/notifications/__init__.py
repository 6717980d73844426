"""The notifications a project declares: their channels, templates and stacking, quiet hours."""

from shared.notifications.catalog import (
    EmailTemplate,
    WidgetTemplate,
    delete_notification,
    get_notification,
    list_notifications,
    notification_json,
    parse_notification,
    upsert_notification,
)
from shared.notifications.quiet_hours import quiet_until

__all__ = [
    "EmailTemplate",
    "WidgetTemplate",
    "delete_notification",
    "get_notification",
    "list_notifications",
    "notification_json",
    "parse_notification",
    "quiet_until",
    "upsert_notification",
]
