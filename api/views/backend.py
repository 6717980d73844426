"""The backend API (SPEC §3): thin views that parse, call one function of `shared`, answer."""

from __future__ import annotations

from flask import Blueprint, request

from api.http.auth import current_project, require_project
from api.http.ratelimit import limit_project, send_slot
from api.http.requests import (
    batch,
    batch_ids,
    body_id,
    json_body,
    query_id,
    refuse_nul_in_query,
    services,
)
from api.views.items import parse_messages, parse_users
from shared.contacts.devices import remove_named_device, user_devices
from shared.contacts.users import delete_users, get_user, upsert_batch, user_json
from shared.infra.db import autocommit, transaction
from shared.messages.results import message_json
from shared.messages.retry import RetryRequest, retry_channel
from shared.messages.sending import send_batch
from shared.messages.store import (
    MAX_BATCH,
    MessageFilter,
    get_message,
    list_messages,
    push_sends_of,
)
from shared.messages.timeline import message_timeline
from shared.notifications.catalog import (
    delete_notification,
    get_notification,
    list_notifications,
    notification_json,
    parse_notification,
    upsert_notification,
)
from shared.templating.preview import parse_preview, preview

bp = Blueprint("backend", __name__)
bp.before_request(refuse_nul_in_query)
bp.before_request(require_project)
bp.before_request(limit_project)  # after authentication: the budget is the project's

MAX_USERS = 100


@bp.post("/messages.send")
def messages_send():
    """Accept 1 to 50 messages and answer what happened to each."""
    items = parse_messages(batch(json_body(), "messages", MAX_BATCH))
    svc, project_id = services(), current_project().id
    with send_slot(project_id):
        results = send_batch(svc.engine, svc.broker, project_id, items, svc.settings.send_wait)
    return {"results": results}


@bp.post("/users.upsert")
def users_upsert():
    """Create or update 1 to 100 users."""
    allow_private = services().settings.webhooks_allow_private
    items = parse_users(batch(json_body(), "users", MAX_USERS), allow_private)
    return {"results": upsert_batch(services().engine, current_project().id, items)}


@bp.get("/users.get")
def users_get():
    """One user's profile."""
    with autocommit(services().engine) as connection:
        project_id = current_project().id
        user = user_json(get_user(connection, project_id, user_id := query_id()))
        return {"user": {**user, "devices": user_devices(connection, project_id, user_id)}}


@bp.post("/users.devices.remove")
def users_devices_remove():
    """Remove one of a user's push devices by its token or endpoint."""
    with transaction(services().engine) as connection:
        return remove_named_device(connection, current_project().id, json_body())


@bp.post("/users.delete")
def users_delete():
    """Remove 1 to 100 users and their messages."""
    ids = batch_ids(json_body(), "ids", MAX_USERS)
    with transaction(services().engine) as connection:
        deleted = delete_users(connection, current_project().id, ids)
    return {"results": [{"id": i, "ok": True, "deleted": i in deleted} for i in ids]}


@bp.post("/notifications.upsert")
def notifications_upsert():
    """Create or replace one notification; its templates are compiled first."""
    values = parse_notification(json_body())
    with transaction(services().engine) as connection:
        row = upsert_notification(connection, current_project().id, values)
    return {"notification": notification_json(row)}


@bp.get("/notifications.list")
def notifications_list():
    """Every notification of the project."""
    with autocommit(services().engine) as connection:
        rows = list_notifications(connection, current_project().id)
    return {"notifications": [notification_json(row) for row in rows]}


@bp.get("/notifications.get")
def notifications_get():
    """One notification."""
    with autocommit(services().engine) as connection:
        row = get_notification(connection, current_project().id, query_id())
    return {"notification": notification_json(row)}


@bp.post("/notifications.delete")
def notifications_delete():
    """Remove one notification."""
    notification_id = body_id(json_body())
    with transaction(services().engine) as connection:
        delete_notification(connection, current_project().id, notification_id)
    return {"ok": True, "id": notification_id}


@bp.get("/messages.get")
def messages_get():
    """One message with its per-channel outcome (an id stacked onto another gives that one)."""
    with autocommit(services().engine) as connection:
        row = get_message(connection, current_project().id, query_id())
        sends = push_sends_of(connection, [row])
    return {"message": message_json(row, sends.get(row.pk))}


@bp.get("/messages.list")
def messages_list():
    """Messages newest first, filtered by user, notification and status; cursor-paged."""
    wanted = MessageFilter.from_query(request.args)
    with autocommit(services().engine) as connection:
        page = list_messages(connection, current_project().id, wanted)
        sends = push_sends_of(connection, page.rows)
    shown = [message_json(row, sends.get(row.pk)) for row in page.rows]
    return {"messages": shown, "nextCursor": page.next_cursor}


@bp.post("/messages.retry")
def messages_retry():
    """Send a failed channel of a message again (an unknown one only when confirmed)."""
    wanted = RetryRequest.from_body(json_body())
    svc, project_id = services(), current_project().id
    confirm = wanted.confirm_unknown
    row = retry_channel(
        svc.engine, svc.broker, project_id, wanted.message_id, wanted.channel, confirm
    )
    with autocommit(svc.engine) as connection:
        sends = push_sends_of(connection, [row])
    return {"message": message_json(row, sends.get(row.pk))}


@bp.get("/messages.timeline")
def messages_timeline():
    """What happened to one message, oldest first: its attempts, feedback, webhook deliveries."""
    with autocommit(services().engine) as connection:
        return {"timeline": message_timeline(connection, current_project().id, query_id())}


@bp.post("/templates.preview")
def templates_preview():
    """Every channel of a notification, saved or not, rendered as a send would; nothing sent."""
    body = parse_preview(json_body())
    svc = services()
    with autocommit(svc.engine) as connection:
        return preview(connection, current_project(), body)
