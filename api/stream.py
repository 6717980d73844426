"""The `stream` process: `GET /front/messages.stream` on an asyncio event loop (aiohttp), so an
idle page costs a coroutine and a socket, not a thread. One Redis subscription per process
receives every feed event of the deployment and hands each to the open streams of its user.

Run it with `gunicorn --worker-class aiohttp.GunicornWebWorker 'api.stream:create_stream_app()'`
(the Procfile's `stream` line).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis
from aiohttp import web

from api.errors import STATUSES
from api.sse import (
    CORS_HEADERS,
    HEARTBEAT,
    STREAM_HEADERS,
    completed,
    frame,
    last_event_id,
    open_stream,
)
from shared.feed.events import FeedEvent
from shared.feed.hubs.redis import feed_channel
from shared.feed.reading import verify_user
from shared.infra.config import Settings
from shared.infra.db import autocommit, check_schema, make_engine
from shared.infra.errors import HeraldError
from shared.infra.logs import configure_logging
from shared.operations.metrics import STREAM_CONNECTIONS

log = logging.getLogger("herald.stream")
PATH = "/front/messages.stream"
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


async def _authenticate(request: web.Request) -> tuple[str, str]:
    """The stream's (project id, user id), verified by its userHmac, or a HeraldError."""
    query = request.query
    values = [query.get(name) for name in ("projectId", "userId", "userHmac")]
    if any(value and "\x00" in value for value in values):
        raise HeraldError("query/invalid", "A query parameter contains a NUL character.")

    def verify() -> None:
        with autocommit(request.app["engine"]) as connection:
            verify_user(connection, *values)

    await asyncio.to_thread(verify)
    return values[0], values[1]


async def messages_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events of one user's feed."""
    app = request.app
    try:
        key = await _authenticate(request)
    except HeraldError as error:
        status = STATUSES.get(type(error), 400)
        return web.json_response(error.as_dict(), status=status, headers=CORS_HEADERS)
    inbox = app["hub"].subscribe(key)
    STREAM_CONNECTIONS.inc()
    try:
        opening = await asyncio.to_thread(
            open_stream, app["engine"], *key, last_event_id(request.headers, request.query)
        )
        response = web.StreamResponse(headers={**STREAM_HEADERS, **CORS_HEADERS})
        await response.prepare(request)
        await response.write("".join(opening.frames).encode())
        heartbeat = app["settings"].stream_heartbeat
        while True:
            try:
                event = await asyncio.wait_for(inbox.get(), heartbeat)
            except TimeoutError:
                await response.write(HEARTBEAT.encode())
                continue
            if opening.fresh(event):
                if event.data is None:  # a delivery's notice: its data from the message now
                    event = await asyncio.to_thread(completed, app["engine"], event)
                await response.write(frame(event.id, event.data).encode())
    except (ConnectionResetError, ConnectionError):
        return response
    finally:
        STREAM_CONNECTIONS.dec()
        app["hub"].unsubscribe(key, inbox)


async def preflight(_request: web.Request) -> web.Response:
    """CORS preflight of the stream."""
    return web.Response(headers=CORS_HEADERS)


async def healthz(_request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"ok": True})


async def _start(app: web.Application) -> None:
    """Subscribe before serving, so the first stream misses nothing."""
    app["listener"] = asyncio.create_task(listen(app))
    await asyncio.wait_for(app["subscribed"].wait(), 10)


async def _stop(app: web.Application) -> None:
    app["listener"].cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app["listener"]
    app["engine"].dispose()


def create_stream_app(settings: Settings | None = None) -> web.Application:
    """The stream process's app (production: Redis and PostgreSQL must be configured)."""
    configure_logging("stream")
    settings = settings or Settings.from_env()
    if settings.embedded:
        raise SystemExit("The stream process needs REDIS_URL; `herald serve` streams by itself.")
    engine = make_engine(settings)
    check_schema(engine)
    app = web.Application()
    app.update(settings=settings, engine=engine, hub=StreamHub(), subscribed=asyncio.Event())
    app.router.add_get(PATH, messages_stream)
    app.router.add_route("OPTIONS", PATH, preflight)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    return app
