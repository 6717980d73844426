"""The console's Messages pages (SPEC §11): the log and one message's outcome and timeline, HTML
shells the console's script fills from `/console/api/` (console_messages_api.py)."""

from __future__ import annotations

from flask import Blueprint, Response

from api.http.requests import services
from api.views.console import _page, _shell, _signed_in
from shared.infra.db import autocommit
from shared.infra.errors import NotFound
from shared.messages.store import get_message

bp = Blueprint("console_messages", __name__)


@bp.get("/console/<project_id>/messages")
def messages(project_id: str):
    """The project's messages, newest first, with their filters."""
    viewer = _signed_in()
    return viewer if isinstance(viewer, Response) else _shell(viewer, project_id, "messages")


@bp.get("/console/<project_id>/messages/<message_id>")
def message(project_id: str, message_id: str):
    """One message's channels and timeline; 404 for one the project does not have (another
    project's included)."""
    viewer = _signed_in()
    if isinstance(viewer, Response):
        return viewer
    try:
        viewer.check_sees(project_id)
        with autocommit(services().engine) as connection:
            get_message(connection, project_id, message_id)
    except NotFound as missing:
        return _page("missing.html", 404, error=missing.message)
    return _shell(viewer, project_id, "message")
