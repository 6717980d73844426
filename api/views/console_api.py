"""`/console/api/`: the console's JSON calls. Each checks the session (a key's session sees its
own project alone), then calls the same function as the backend API's call of the same name:
the console adds no second way to change data (SPEC §11)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from api.http.ops_auth import require_viewer
from api.http.ratelimit import send_slot
from api.http.requests import body_id, json_body, query_id, require_json, services
from api.views.items import parse_messages
from shared.infra.db import autocommit, transaction
from shared.messages.sending import send_batch
from shared.notifications.catalog import (
    delete_notification,
    get_notification,
    list_notifications,
    notification_json,
    parse_notification,
    upsert_notification,
)
from shared.templating.preview import parse_preview, preview
from shared.tenancy.projects import list_projects, load_project

bp = Blueprint("console_api", __name__, url_prefix="/console/api")


@bp.before_request
def check_session() -> None:
    """Every call needs a live session; a state change, a JSON body (no form from another
    site can send one with the cookie)."""
    require_viewer()
    if request.method == "POST":
        require_json()


def _seen(project_id: str) -> str:
    """The project id, once the viewer may see it (else 404 `project/notFound`)."""
    require_viewer().check_sees(project_id)
    return project_id


@bp.get("/projects")
def projects():
    """The projects of the switcher: every one for the operator, the key's own for a key."""
    viewer = require_viewer()
    with autocommit(services().engine) as connection:
        if viewer.operator:
            shown = list_projects(connection)
        else:
            shown = [load_project(connection, str(viewer.project_id))]
    return {
        "operator": viewer.operator,
        "projects": [{"id": project.id, "name": project.name} for project in shown],
    }


@bp.get("/<project_id>/notifications.list")
def notifications_list(project_id: str):
    """Every notification of the project, as `notifications.list` answers."""
    with autocommit(services().engine) as connection:
        rows = list_notifications(connection, _seen(project_id))
    return {"notifications": [notification_json(row) for row in rows]}


@bp.get("/<project_id>/notifications.get")
def notifications_get(project_id: str):
    """One notification, as `notifications.get` answers."""
    with autocommit(services().engine) as connection:
        row = get_notification(connection, _seen(project_id), query_id())
    return {"notification": notification_json(row)}


@bp.post("/<project_id>/notifications.upsert")
def notifications_upsert(project_id: str):
    """Create or replace one notification, compiled first: a refused one is not saved."""
    values = parse_notification(json_body())
    with transaction(services().engine) as connection:
        row = upsert_notification(connection, _seen(project_id), values)
    return {"notification": notification_json(row)}


@bp.post("/<project_id>/notifications.delete")
def notifications_delete(project_id: str):
    """Remove one notification."""
    notification_id = body_id(json_body())
    with transaction(services().engine) as connection:
        delete_notification(connection, _seen(project_id), notification_id)
    return {"ok": True, "id": notification_id}


@bp.post("/<project_id>/templates.preview")
def templates_preview(project_id: str):
    """Every channel rendered as a send would, as `templates.preview` answers; nothing sent."""
    body = parse_preview(json_body())
    with autocommit(services().engine) as connection:
        project = load_project(connection, _seen(project_id))
        return preview(connection, project, body)


@bp.post("/<project_id>/messages.send")
def messages_send(project_id: str):
    """A test send of a saved notification to one user, through `messages.send`'s function."""
    body = json_body()
    item: dict[str, Any] = {
        "notificationId": body.get("notificationId"),
        "userId": body.get("userId"),
        "data": body.get("data"),
    }
    svc = services()
    items = parse_messages([item])
    with send_slot(_seen(project_id)):
        results = send_batch(svc.engine, svc.broker, project_id, items, svc.settings.send_wait)
    return {"result": results[0]}
