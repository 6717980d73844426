"""The embedded mode's hub: in the process (its one web process also runs the worker), a
queue per open stream."""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

from shared.feed.hubs.base import FeedHub, Inbox

if TYPE_CHECKING:
    from shared.feed.events import FeedEvent


class MemoryInbox(Inbox):
    """A stream's queue in the hub."""

    def __init__(self, hub: MemoryHub, key: tuple[str, str]) -> None:
        self.hub, self.key = hub, key
        self.events: queue.Queue = queue.Queue()

    def get(self, timeout: float) -> FeedEvent | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.hub.unsubscribe(self)


class MemoryHub(FeedHub):
    """The open streams of this process, keyed by project and user."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[tuple[str, str], set[MemoryInbox]] = {}

    def subscribe(self, project_id: str, user_id: str) -> MemoryInbox:
        inbox = MemoryInbox(self, (project_id, user_id))
        with self._lock:
            self._streams.setdefault(inbox.key, set()).add(inbox)
        return inbox

    def unsubscribe(self, inbox: MemoryInbox) -> None:
        """Stop delivering to this inbox."""
        with self._lock:
            inboxes = self._streams.get(inbox.key, set())
            inboxes.discard(inbox)
            if not inboxes:
                self._streams.pop(inbox.key, None)

    def publish(self, event: FeedEvent) -> None:
        with self._lock:
            inboxes = list(self._streams.get((event.project_id, event.user_id), ()))
        for inbox in inboxes:
            inbox.events.put(event)
