"""Feed hubs, the interface: how a published feed event reaches the open streams of its user.
A hub carries events without reading their data; each mode's hub is a module here, and
`shared.feed.events.feed_hub` picks the mode's."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.feed.events import FeedEvent


class Inbox:
    """One open stream's subscription: the events of its user, until `close`."""

    def get(self, timeout: float) -> FeedEvent | None:
        """The next event, or None when `timeout` seconds pass without one."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop receiving events."""
        raise NotImplementedError


class FeedHub:
    """Where feed events are published and the open streams subscribe."""

    def publish(self, event: FeedEvent) -> None:
        """Hand the event to every open stream of its user; never raises (the event is stored,
        and a page that missed it replays it when it reconnects)."""
        raise NotImplementedError

    def subscribe(self, project_id: str, user_id: str) -> Inbox:
        """An inbox of the user's events published from now on."""
        raise NotImplementedError
