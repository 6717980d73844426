"""`/console`, the people's page (SPEC §11): its sign-in, shared with /ops, and its pages, one
HTML shell each that the console's script fills from `/console/api/` (console_api.py)."""

from __future__ import annotations

from html import escape
from importlib import resources

from flask import Blueprint, Response, redirect, request

from api.http.ops_auth import (
    CONSOLE,
    Viewer,
    check_sign_in,
    end_session,
    operator_token,
    require_viewer,
    start_session,
)
from api.http.requests import services
from shared.infra.db import autocommit
from shared.infra.errors import NotFound, RateLimited, Unauthorized
from shared.notifications.catalog import get_notification
from shared.tenancy.projects import list_projects, load_project

bp = Blueprint("console", __name__)


def _page(file: str, status: int = 200, **slots: str) -> Response:
    """One of the console's HTML files, with its slots filled (escaped)."""
    html = resources.files("api").joinpath(f"static/console/{file}").read_text(encoding="utf-8")
    for slot, value in slots.items():
        html = html.replace("{{" + slot + "}}", escape(value))
    return Response(html, status, mimetype="text/html")


def _signed_in() -> Viewer | Response:
    """The viewer, or the sign-in form (saying so when the session expired or its key was
    revoked)."""
    try:
        return require_viewer()
    except Unauthorized as refused:
        shown = "" if refused.code == "auth/missing" else refused.message
        return _page("login.html", 200, error=shown)


def _shell(viewer: Viewer, project_id: str, view: str, notification: str = "") -> Response:
    """The console's page of one project: 404 for a project the viewer may not see."""
    try:
        viewer.check_sees(project_id)
        with autocommit(services().engine) as connection:
            project = load_project(connection, project_id)
            if notification:
                get_notification(connection, project_id, notification)
    except NotFound as missing:
        return _page("missing.html", 404, error=missing.message)
    role = "operator" if viewer.operator else "key"
    return _page(
        "index.html", project=project.id, name=project.name, view=view,
        notification=notification, role=role,
    )  # fmt: skip


@bp.get("/console")
def page():
    """The first project's notifications, or the sign-in form."""
    viewer = _signed_in()
    if isinstance(viewer, Response):
        return viewer
    project_id = viewer.project_id
    if project_id is None:
        with autocommit(services().engine) as connection:
            seen = list_projects(connection)
        if not seen:
            raise NotFound("project/notFound", "There is no project yet: herald projects create.")
        project_id = seen[0].id
    return redirect(f"/console/{project_id}/notifications", 303)


@bp.post("/console/login")
def login():
    """Check the operator token or API key from the form; a session cookie on success."""
    try:
        viewer = check_sign_in(request.form.get("token", ""))
    except (Unauthorized, RateLimited) as refused:
        status = 429 if isinstance(refused, RateLimited) else 401
        return _page("login.html", status, error=refused.message)
    return start_session(redirect("/console", 303), operator_token(), CONSOLE, viewer)


@bp.post("/console/logout")
def logout():
    """End the session; back to the sign-in form."""
    return end_session(redirect("/console", 303), CONSOLE)


@bp.get("/console/<project_id>/notifications")
def notifications(project_id: str):
    """The project's notifications."""
    viewer = _signed_in()
    return viewer if isinstance(viewer, Response) else _shell(viewer, project_id, "list")


@bp.get("/console/<project_id>/new")
def new_notification(project_id: str):
    """The editor of a notification not saved yet."""
    viewer = _signed_in()
    return viewer if isinstance(viewer, Response) else _shell(viewer, project_id, "edit")


@bp.get("/console/<project_id>/notifications/<notification_id>")
def notification(project_id: str, notification_id: str):
    """One notification's editor; 404 for one the project does not have."""
    viewer = _signed_in()
    if isinstance(viewer, Response):
        return viewer
    return _shell(viewer, project_id, "edit", notification_id)
