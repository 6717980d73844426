"""`/unsubscribe/<token>`: the one-click unsubscribe link of an e-mail (RFC 8058, SPEC §8).

A mail client's one-click POST (body `List-Unsubscribe=One-Click`), or the page's button,
mutes that notification's e-mail for that user. A GET only shows the page: link scanners and
previews follow GETs, so a GET changes nothing. The answers are pages, for people.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from api.http.requests import services
from shared.channels import Channel
from shared.contacts import mute_email, read_token, subscription_state
from shared.infra.db import autocommit, transaction
from shared.infra.errors import NotFound
from shared.infra.secrets import secret_box

bp = Blueprint("unsubscribe", __name__)


def _page(status: int = 200, **context) -> Response:
    """The unsubscribe page in one of its states: `ask`, `done`, `already` or `invalid`."""
    return Response(render_template("unsubscribe.html", **context), status, mimetype="text/html")


def _invalid(refused: NotFound) -> Response:
    """The page of a link that is not valid, with the code and sentence of the refusal."""
    return _page(404, state="invalid", code=refused.code, message=refused.message)


@bp.get("/unsubscribe/<token>")
def page(token: str):
    """The page with the one button that unsubscribes; nothing changes."""
    svc = services()
    try:
        with autocommit(svc.engine) as connection:
            read = read_token(connection, secret_box(svc.settings.secret_keys), token)
            notification, entry = subscription_state(connection, read)
    except NotFound as refused:
        return _invalid(refused)
    already = bool(entry.get(Channel.EMAIL.preference))
    return _page(state="already" if already else "ask", name=notification.name)


@bp.post("/unsubscribe/<token>")
def confirm(token: str):
    """Mute the notification's e-mail for the user (a mail client's one-click POST, with the
    body `List-Unsubscribe=One-Click`, or the page's button); 200 with the page saying so.
    Posting again changes nothing more and answers the same."""
    svc = services()
    try:
        with transaction(svc.engine) as connection:
            read = read_token(connection, secret_box(svc.settings.secret_keys), token)
            notification = mute_email(connection, read)
    except NotFound as refused:
        return _invalid(refused)
    return _page(state="done", name=notification.name)
