"""This process's open streams, and the one Redis subscription that feeds them every feed event
of the deployment."""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from aiohttp import web

from shared.feed.events import FeedEvent
from shared.feed.hubs.redis import feed_channel
from shared.infra.config import Settings

log = logging.getLogger("herald.stream")
RECONNECT_SECONDS = 1.0


class StreamHub:
    """This process's open streams: an asyncio queue each, keyed by project and user."""

    def __init__(self) -> None:
        self.streams: dict[tuple[str, str], set[asyncio.Queue]] = {}

    def subscribe(self, key: tuple[str, str]) -> asyncio.Queue:
        """A queue that receives the user's events until `unsubscribe`."""
        inbox: asyncio.Queue = asyncio.Queue()
        self.streams.setdefault(key, set()).add(inbox)
        return inbox

    def unsubscribe(self, key: tuple[str, str], inbox: asyncio.Queue) -> None:
        """Stop delivering to this queue."""
        inboxes = self.streams.get(key, set())
        inboxes.discard(inbox)
        if not inboxes:
            self.streams.pop(key, None)

    def publish(self, event: FeedEvent) -> None:
        """Hand an event to the open streams of its user in this process."""
        for inbox in self.streams.get((event.project_id, event.user_id), ()):
            inbox.put_nowait(event)


async def listen(app: web.Application) -> None:
    """Relay the deployment's feed events to this process's streams, resubscribing after a
    Redis failure (events published meanwhile reach the pages when they reconnect)."""
    settings: Settings = app["settings"]
    while True:
        client = aioredis.Redis.from_url(settings.redis_url)
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(feed_channel(settings))
                app["subscribed"].set()
                async for message in pubsub.listen():
                    app["hub"].publish(FeedEvent.decode(message["data"]))
        except (aioredis.RedisError, OSError) as exc:
            log.warning("feed subscription lost (%s); resubscribing", exc)
            await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            await client.aclose()
