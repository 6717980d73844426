"""The frontend API (SPEC §4): the widget's calls under /front/, authenticated per user by HMAC
(in the `X-Herald-User-Hmac` header, or the query or body as the Notifuse widget sends it),
open to pages of any origin."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from api.http import sse
from api.http.ratelimit import check_front_limit
from api.http.requests import json_body, refuse_nul_in_query, services
from shared.contacts.devices import subscribe_browser, unsubscribe_browser
from shared.feed.events import emit
from shared.feed.reading import (
    HMAC_HEADER,
    MAX_PAGE,
    feed_page,
    front_user,
    issue_stream_token,
    mark_all_read,
    mark_read,
    set_profile,
    verify_stream,
    verify_user,
)
from shared.feed.stream_caps import RETRY_AFTER, StreamCaps, build_caps
from shared.infra.db import autocommit, transaction
from shared.infra.errors import HeraldError, NotFound, RateLimited
from shared.infra.secrets import SecretBox, secret_box
from shared.push.vapid import vapid_public_key
from shared.webhooks import preferences_events

bp = Blueprint("front", __name__, url_prefix="/front")
bp.before_request(refuse_nul_in_query)

AUTH_FIELDS = ("projectId", "userId", "userHmac")


@bp.record_once
def build_stream_caps(state) -> None:
    """The places for open streams of the app's process."""
    app = state.app
    app.extensions["herald_streams"] = build_caps(app.extensions["herald"]["settings"])


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    """CORS for pages on any origin; no cookies are involved, so no credentials."""
    response.headers.update(sse.CORS_HEADERS)
    return response


@bp.before_request
def require_user() -> None:
    """Resolve the calling user from projectId, userId and userHmac (or answer 401), and take
    the request from that user's budget (or answer 429)."""
    if request.method == "OPTIONS":
        return
    g.body = json_body() if request.method == "POST" else {}
    source = {**request.args.to_dict(), **g.body}
    project_id, user_id, signature = (source.get(name) for name in AUTH_FIELDS)
    # The header wins over the query and the body: it is where the bell sends the HMAC, out
    # of URLs, which proxies and access logs keep.
    signature = request.headers.get(HMAC_HEADER) or signature
    with autocommit(services().engine) as connection:
        if request.endpoint == "front.messages_stream":
            token = request.args.get("streamToken")
            verify_stream(connection, _box(), project_id, user_id, signature, token=token)
        else:
            verify_user(connection, _box(), project_id, user_id, signature)
    check_front_limit(project_id, user_id)
    g.project_id, g.user_id = project_id, user_id


def _box() -> SecretBox:
    """The box the stored widget secrets open with."""
    return secret_box(services().settings.secret_keys)


def _page_parameter(name: str, default: int, maximum: int) -> int:
    """A non-negative integer query parameter, at most `maximum` (empty is not a number)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) > maximum:
        raise HeraldError(
            f"{name}/invalid", f"{name} must be a whole number from 0 to {maximum}, not {raw!r}."
        )
    return int(raw)


@bp.get("/users.get")
def users_get():
    """The user's profile and preferences, and the project's notifications."""
    svc = services()
    with autocommit(svc.engine) as connection:
        user = front_user(connection, g.project_id, g.user_id)
    return {**user, "vapidPublicKey": vapid_public_key(svc.settings)}


@bp.post("/push.subscribe")
def push_subscribe():
    """Add the browser's Web Push subscription to the user's devices."""
    svc = services()
    allow_private = svc.settings.webhooks_allow_private
    with transaction(svc.engine) as connection:
        return subscribe_browser(connection, g.project_id, g.user_id, g.body, allow_private)


@bp.post("/push.unsubscribe")
def push_unsubscribe():
    """Remove the browser's subscription (by its endpoint) from the user's devices."""
    with transaction(services().engine) as connection:
        return unsubscribe_browser(connection, g.project_id, g.user_id, g.body)


@bp.get("/messages.list")
def messages_list():
    """A page of the feed, newest first, with `total` and `unread`."""
    skip = _page_parameter("skip", 0, 10**9)
    limit = _page_parameter("limit", 20, MAX_PAGE)
    with autocommit(services().engine) as connection:
        return feed_page(connection, g.project_id, g.user_id, skip, limit)


@bp.post("/messages.read")
def messages_read():
    """Mark one message read; another user's message is not found."""
    svc = services()
    with transaction(svc.engine) as connection:
        mark_read(connection, g.project_id, g.user_id, g.body.get("messageId"))
    event = emit(
        svc.settings, svc.engine, g.project_id, g.user_id, "message.read", g.body["messageId"]
    )
    return {"ok": True, "unread": event.data["unread"]}


@bp.post("/messages.readAll")
def messages_read_all():
    """Mark every message of the user read."""
    svc = services()
    with transaction(svc.engine) as connection:
        _, changed = mark_all_read(connection, g.project_id, g.user_id)
    if changed:
        emit(svc.settings, svc.engine, g.project_id, g.user_id, "messages.readAll")
    return {"ok": True, "unread": 0}


@bp.post("/users.setProfile")
def users_set_profile():
    """Change what a browser may change of its user: language, timezone, allowed mutes."""
    engine = services().engine
    with (
        transaction(engine) as connection,
        preferences_events(connection, g.project_id, g.user_id),
    ):
        set_profile(connection, g.project_id, g.user_id, g.body.get("user"))
    with autocommit(engine) as connection:
        return front_user(connection, g.project_id, g.user_id)


@bp.post("/messages.streamToken")
def messages_stream_token():
    """A token that opens the user's stream for a minute: an EventSource can't send the HMAC
    header, and a URL is where credentials leak into logs."""
    with autocommit(services().engine) as connection:
        return issue_stream_token(connection, _box(), g.project_id, g.user_id)


@bp.get("/messages.stream")
def messages_stream():
    """Server-Sent Events of the user's feed (this server: a thread per open stream), unless
    this process leaves them to the `stream` process (the Procfile's gunicorn)."""
    svc = services()
    if not svc.settings.web_streams:
        raise NotFound(
            "stream/notServed",
            "This web process does not serve the feed's streams: route /front/messages.stream "
            "to the stream process (README: In-app feed).",
        )
    caps: StreamCaps = current_app.extensions["herald_streams"]
    try:
        lease = caps.open(g.project_id, g.user_id)
    except RateLimited:
        g.retry_after = RETRY_AFTER
        raise
    after = sse.last_event_id(request.headers, request.args)
    stream = sse.threaded_stream(svc, g.project_id, g.user_id, after)
    response = Response(stream, headers=sse.STREAM_HEADERS)
    response.call_on_close(lambda: caps.close(lease))
    return response
