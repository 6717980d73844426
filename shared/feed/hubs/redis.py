"""The production mode's hub: one Redis pub/sub channel for every feed event of the deployment,
so an event published by any process reaches the open streams of its user in every process.
A thread's subscription reads them all and keeps its user's (the `stream` process subscribes
once and relays them itself)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis

from shared.feed.hubs.base import FeedHub, Inbox
from shared.infra.config import Settings

if TYPE_CHECKING:
    from shared.feed.events import FeedEvent

log = logging.getLogger("herald.events")


def feed_channel(settings: Settings) -> str:
    """The one Redis pub/sub channel every feed event of this deployment goes to."""
    return f"{settings.redis_namespace}:feed"


class RedisInbox(Inbox):
    """A subscription to the channel, keeping the events of one user."""

    def __init__(self, pubsub, key: tuple[str, str], decode: Callable[..., FeedEvent]) -> None:
        self.pubsub, self.key, self.decode = pubsub, key, decode

    def get(self, timeout: float) -> FeedEvent | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.pubsub.get_message(timeout=left)
            if message is None:
                continue
            event = self.decode(message["data"])
            if (event.project_id, event.user_id) == self.key:
                return event
        return None

    def close(self) -> None:
        self.pubsub.close()


class RedisHub(FeedHub):
    """The deployment's channel, events travelling in their `encode` form (`decode` reads it)."""

    def __init__(self, url: str, channel: str, decode: Callable[..., FeedEvent]) -> None:
        self.client, self.channel, self.decode = redis.Redis.from_url(url), channel, decode

    def publish(self, event: FeedEvent) -> None:
        try:
            self.client.publish(self.channel, event.encode())
        except redis.RedisError as exc:  # the event is stored: a reconnecting page replays it
            log.warning("feed event %s not published: %s", event.id, exc)

    def subscribe(self, project_id: str, user_id: str) -> RedisInbox:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        return RedisInbox(pubsub, (project_id, user_id), self.decode)
