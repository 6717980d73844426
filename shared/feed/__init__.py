"""A user's feed: its messages and read state, its events stored and published to open streams."""

from shared.feed.events import (
    FeedEvent,
    announce_widget,
    complete,
    emit,
    feed_hub,
    widget_kind,
    widget_written,
)
from shared.feed.reading import (
    MAX_PAGE,
    feed_page,
    front_user,
    mark_all_read,
    mark_read,
    set_profile,
    verify_user,
)
from shared.feed.replay import catch_up

__all__ = [
    "MAX_PAGE",
    "FeedEvent",
    "announce_widget",
    "catch_up",
    "complete",
    "emit",
    "feed_hub",
    "feed_page",
    "front_user",
    "mark_all_read",
    "mark_read",
    "set_profile",
    "verify_user",
    "widget_kind",
    "widget_written",
]
