"""`/console/api/<project>/messages.*`: the Messages pages' JSON calls, each through the same
function as the backend API's call of the same name (SPEC §11): the log, one message, its
timeline, and the retry of a failed channel."""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import Connection, Row

from api.http.requests import json_body, query_id, services
from api.views.console_api import _seen, check_session
from shared.infra.db import autocommit
from shared.messages.results import message_json
from shared.messages.retry import RetryRequest, retry_channel
from shared.messages.store import MessageFilter, get_message, list_messages, push_sends_of
from shared.messages.timeline import message_timeline

bp = Blueprint("console_messages_api", __name__, url_prefix="/console/api")
bp.before_request(check_session)


def _shown(connection: Connection, row: Row) -> dict:
    """A message as `messages.get` shows it, its devices' pushes with it."""
    return message_json(row, push_sends_of(connection, [row]).get(row.pk))


@bp.get("/<project_id>/messages.list")
def messages_list(project_id: str):
    """The project's messages newest first, filtered and cursor-paged, as `messages.list`."""
    wanted = MessageFilter.from_query(request.args)
    with autocommit(services().engine) as connection:
        page = list_messages(connection, _seen(project_id), wanted)
        sends = push_sends_of(connection, page.rows)
    shown = [message_json(row, sends.get(row.pk)) for row in page.rows]
    return {"messages": shown, "nextCursor": page.next_cursor}


@bp.get("/<project_id>/messages.get")
def messages_get(project_id: str):
    """One message with its channels' outcomes, as `messages.get`."""
    with autocommit(services().engine) as connection:
        row = get_message(connection, _seen(project_id), query_id())
        return {"message": _shown(connection, row)}


@bp.get("/<project_id>/messages.timeline")
def messages_timeline(project_id: str):
    """What happened to one message, oldest first, as `messages.timeline`."""
    with autocommit(services().engine) as connection:
        return {"timeline": message_timeline(connection, _seen(project_id), query_id())}


@bp.post("/<project_id>/messages.retry")
def messages_retry(project_id: str):
    """Send a failed channel again (an unknown one only when confirmed), as `messages.retry`."""
    wanted = RetryRequest.from_body(json_body())
    svc = services()
    row = retry_channel(
        svc.engine,
        svc.broker,
        _seen(project_id),
        wanted.message_id,
        wanted.channel,
        wanted.confirm_unknown,
    )
    with autocommit(svc.engine) as connection:
        return {"message": _shown(connection, row)}
