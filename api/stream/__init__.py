"""The `stream` process: `GET /front/messages.stream` on an asyncio event loop (aiohttp), so an
idle page costs a coroutine and a socket, not a thread. One Redis subscription per process
receives every feed event of the deployment and hands each to the open streams of its user.
The caps on open streams (shared.feed.stream_caps) hold here: per process, and per user across
every stream process of the deployment.

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
from shared.feed.reading import HMAC_HEADER, verify_stream
from shared.feed.stream_caps import RETRY_AFTER, Lease, build_caps
from shared.infra.config import Settings
from shared.infra.db import autocommit, check_schema, make_engine
from shared.infra.errors import HeraldError
from shared.infra.logs import configure_logging
from shared.infra.secrets import secret_box
from shared.operations.metrics import STREAM_CONNECTIONS

PATH = "/front/messages.stream"


async def _admit(request: web.Request) -> Lease:
    """The stream's place (its project and user, verified by its stream token or userHmac,
    within the caps), or a HeraldError."""
    query = request.query
    values = [query.get(name) for name in ("projectId", "userId", "userHmac", "streamToken")]
    if any(value and "\x00" in value for value in values):
        raise HeraldError("query/invalid", "A query parameter contains a NUL character.")
    values[2] = request.headers.get(HMAC_HEADER) or values[2]  # the header wins, as on /front
    box = secret_box(request.app["settings"].secret_keys)

    def admit() -> Lease:
        with autocommit(request.app["engine"]) as connection:
            verify_stream(connection, box, *values[:3], token=values[3])
        return request.app["caps"].open(values[0], values[1])

    return await asyncio.to_thread(admit)


def _refusal(error: HeraldError) -> web.Response:
    """The JSON answer of a stream refused before it opened."""
    status = STATUSES.get(type(error), 400)
    headers = {**CORS_HEADERS, **({"Retry-After": str(RETRY_AFTER)} if status == 429 else {})}
    return web.json_response(error.as_dict(), status=status, headers=headers)


async def messages_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events of one user's feed."""
    app = request.app
    try:
        lease = await _admit(request)
    except HeraldError as error:
        return _refusal(error)
    key = (lease.project_id, lease.user_id)
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
        # in a thread to its end even if this task is cancelled meanwhile (a shutdown)
        await asyncio.to_thread(app["caps"].close, lease)


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
    app["caps"] = build_caps(settings)
    app.router.add_get(PATH, messages_stream)
    app.router.add_route("OPTIONS", PATH, preflight)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    return app
