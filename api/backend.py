"""The backend API (SPEC §3): thin views that parse, call one function of `shared`, answer."""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from api.auth import current_project, require_project
from api.ratelimit import limit_project
from api.requests import batch, json_body, query_id, refuse_nul_in_query, services
from shared.db import autocommit, transaction
from shared.errors import HeraldError, not_found
from shared.messages import MAX_BATCH, message_json
from shared.models import message_ids, messages
from shared.notifications import (
    delete_notification,
    get_notification,
    list_notifications,
    notification_json,
    parse_notification,
    upsert_notification,
)
from shared.sending import send_batch
from shared.users import delete_users, get_user, parse_user, upsert_users, user_json

bp = Blueprint("backend", __name__)
bp.before_request(refuse_nul_in_query)
bp.before_request(require_project)
bp.before_request(limit_project)  # after authentication: the budget is the project's

MAX_USERS = 100
MESSAGE_STATUSES = ("queued", "scheduled", "sent", "failed")


@bp.post("/messages.send")
def messages_send():
    """Accept 1 to 50 messages and answer what happened to each."""
    items = batch(json_body(), "messages", MAX_BATCH)
    svc = services()
    results = send_batch(
        svc["engine"], svc["broker"], current_project().id, items, svc["settings"].send_wait
    )
    return {"results": results}


@bp.post("/users.upsert")
def users_upsert():
    """Create or update 1 to 100 users."""
    items = batch(json_body(), "users", MAX_USERS)
    results: list[dict] = []
    valid = []
    for raw in items:
        try:
            user = parse_user(raw)
        except HeraldError as exc:
            user_id = raw.get("id") if isinstance(raw, dict) else None
            results.append(
                {
                    "id": user_id if isinstance(user_id, str) else None,
                    "ok": False,
                    "error": exc.code,
                    "message": exc.message,
                }
            )
            continue
        valid.append(user)
        results.append({"id": user.id, "ok": True})
    if valid:
        with transaction(services()["engine"]) as connection:
            created = upsert_users(connection, current_project().id, valid)
        for result in results:
            if result["ok"]:
                result["created"] = result["id"] in created
    return {"results": results}


@bp.get("/users.get")
def users_get():
    """One user's profile."""
    with autocommit(services()["engine"]) as connection:
        return {"user": user_json(get_user(connection, current_project().id, query_id()))}


@bp.post("/users.delete")
def users_delete():
    """Remove 1 to 100 users and their messages."""
    ids = batch(json_body(), "ids", MAX_USERS)
    if not all(isinstance(i, str) and i for i in ids):
        raise HeraldError("ids/invalid", "ids must be a list of non-empty strings.")
    with transaction(services()["engine"]) as connection:
        deleted = delete_users(connection, current_project().id, ids)
    return {"results": [{"id": i, "ok": True, "deleted": i in deleted} for i in ids]}


@bp.post("/notifications.upsert")
def notifications_upsert():
    """Create or replace one notification; its templates are compiled first."""
    values = parse_notification(json_body())
    with transaction(services()["engine"]) as connection:
        row = upsert_notification(connection, current_project().id, values)
    return {"notification": notification_json(row)}


@bp.get("/notifications.list")
def notifications_list():
    """Every notification of the project."""
    with autocommit(services()["engine"]) as connection:
        rows = list_notifications(connection, current_project().id)
    return {"notifications": [notification_json(row) for row in rows]}


@bp.get("/notifications.get")
def notifications_get():
    """One notification."""
    with autocommit(services()["engine"]) as connection:
        row = get_notification(connection, current_project().id, query_id())
    return {"notification": notification_json(row)}


@bp.post("/notifications.delete")
def notifications_delete():
    """Remove one notification."""
    notification_id = json_body().get("id")
    if notification_id in (None, ""):
        raise HeraldError("id/required", 'The body must be {"id": "<notification id>"}.')
    if not isinstance(notification_id, str):
        raise HeraldError("id/invalid", "id must be a string.")
    with transaction(services()["engine"]) as connection:
        delete_notification(connection, current_project().id, notification_id)
    return {"ok": True, "id": notification_id}


@bp.get("/messages.get")
def messages_get():
    """One message with its per-channel outcome (an id stacked onto another gives that one)."""
    message_id, project_id = query_id(), current_project().id
    with autocommit(services()["engine"]) as connection:
        row = connection.execute(
            select(messages)
            .join(
                message_ids,
                (message_ids.c.project_id == messages.c.project_id)
                & (message_ids.c.message_id == messages.c.id),
            )
            .where(message_ids.c.project_id == project_id, message_ids.c.id == message_id)
        ).first()
    if row is None:
        raise not_found("message", message_id)
    return {"message": message_json(row)}


def _cursor(raw: str | None) -> int | None:
    """A `nextCursor` given back: a positive whole number that fits a 64-bit column."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise HeraldError("cursor/invalid", "cursor must be a nextCursor from an earlier page.")
    return int(raw)


@bp.get("/messages.list")
def messages_list():
    """Messages newest first, filtered by user, notification and status; cursor-paged."""
    args = request.args
    try:
        limit = int(args.get("limit", 20))
    except ValueError:
        raise HeraldError("query/invalid", "limit must be a whole number.") from None
    cursor = _cursor(args.get("cursor"))
    if not 1 <= limit <= 100:
        raise HeraldError("limit/invalid", "limit must be between 1 and 100.")
    status = args.get("status")
    if status and status not in MESSAGE_STATUSES:
        raise HeraldError("status/invalid", f"status must be one of {', '.join(MESSAGE_STATUSES)}.")
    query = select(messages).where(messages.c.project_id == current_project().id)
    for name, column in (
        ("userId", messages.c.user_id),
        ("notificationId", messages.c.notification_id),
    ):
        if args.get(name):
            query = query.where(column == args[name])
    if status:
        query = query.where(messages.c.status == status)
    if cursor is not None:
        query = query.where(messages.c.pk < cursor)
    with autocommit(services()["engine"]) as connection:
        rows = connection.execute(query.order_by(messages.c.pk.desc()).limit(limit + 1)).all()
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return {"messages": [message_json(row) for row in rows[:limit]], "nextCursor": next_cursor}
