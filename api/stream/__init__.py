"""The `stream` process: `GET /front/messages.stream` on an asyncio event loop (aiohttp), so an
idle page costs a coroutine and a socket, not a thread. One Redis subscription per process
receives every feed event of the deployment and hands each to the open streams of its user.

Run it with `gunicorn --worker-class aiohttp.GunicornWebWorker 'api.stream:create_stream_app()'`
(the Procfile's `stream` line).
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from api.http.errors import STATUSES
from api.http.sse import (
    CORS_HEADERS,
    HEARTBEAT,
    STREAM_HEADERS,
    frame,
    last_event_id,
    live_frame,
    open_stream,
)
from api.stream.hub import StreamHub, listen
from shared.feed.reading import verify_user
from shared.infra.config import Settings
from shared.infra.db import autocommit, check_schema, make_engine
from shared.infra.errors import HeraldError
from shared.infra.logs import configure_logging
from shared.operations.metrics import STREAM_CONNECTIONS

PATH = "/front/messages.stream"


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
            if not opening.fresh(event):
                continue
            if event.data is None:  # a delivery's notice: its data from the message now
                text = await asyncio.to_thread(live_frame, app["engine"], event)
            else:
                text = frame(event.seq, event.data)
            if text:
                await response.write(text.encode())
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
