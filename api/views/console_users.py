"""The console's Users page (SPEC §11): find a user by id or e-mail; their profile,
preferences, devices, suppressions and feed as the bell shows it. Removals go through the
functions of `users.devices.remove` and `herald suppressions remove`."""

from __future__ import annotations

from flask import Blueprint, Response, request

from api.http.requests import json_body, query_id, services
from api.views.console import _page, _shell, _signed_in
from api.views.console_api import _seen, check_session
from shared.contacts.devices import device_address, remove_named_device, user_devices
from shared.contacts.suppressions import list_suppressions, remove_suppression
from shared.contacts.users import find_user, get_user, user_json
from shared.feed.reading import feed_page
from shared.infra.db import autocommit, transaction
from shared.infra.errors import HeraldError, NotFound

FEED_SHOWN = 20  # the bell's first page
pages = Blueprint("console_users_pages", __name__)
bp = Blueprint("console_users", __name__, url_prefix="/console/api")
bp.before_request(check_session)


@pages.get("/console/<project_id>/users")
def users_page(project_id: str):
    """The search for a user."""
    viewer = _signed_in()
    return viewer if isinstance(viewer, Response) else _shell(viewer, project_id, "users")


@pages.get("/console/<project_id>/users/<user_id>")
def user_page(project_id: str, user_id: str):
    """One user's page; 404 for a user the project does not have (another project's too)."""
    viewer = _signed_in()
    if isinstance(viewer, Response):
        return viewer
    try:
        viewer.check_sees(project_id)
        with autocommit(services().engine) as connection:
            get_user(connection, project_id, user_id)
    except NotFound as missing:
        return _page("missing.html", 404, error=missing.message)
    return _shell(viewer, project_id, "users")


def _text(body: dict, name: str) -> str:
    """A required string field of a JSON body."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise HeraldError(f"{name}/required", f"{name} is required, a string.")
    return value


@bp.get("/<project_id>/users.find")
def users_find(project_id: str):
    """The user of this id, else of this e-mail address."""
    wanted = request.args.get("q", "").strip()
    if not wanted:
        raise HeraldError("q/required", "Give a user id or an e-mail address.")
    with autocommit(services().engine) as connection:
        return {"user": user_json(find_user(connection, _seen(project_id), wanted))}


@bp.get("/<project_id>/users.get")
def users_get(project_id: str):
    """The profile and devices as `users.get` answers, the suppressions of the user's e-mail."""
    with autocommit(services().engine) as connection:
        user = user_json(get_user(connection, _seen(project_id), user_id := query_id()))
        devices = user_devices(connection, project_id, user_id)
        email = (user.get("email") or "").lower()
        held = [s for s in list_suppressions(connection, project_id) if s["address"] == email]
    return {"user": {**user, "devices": devices}, "suppressions": held}


@bp.get("/<project_id>/users.feed")
def users_feed(project_id: str):
    """The user's feed as the bell shows it: newest first, read or not."""
    with autocommit(services().engine) as connection:
        user_id = get_user(connection, _seen(project_id), query_id()).id
        return feed_page(connection, project_id, user_id, 0, FEED_SHOWN)


@bp.post("/<project_id>/users.devices.remove")
def users_devices_remove(project_id: str):
    """Remove one device, named by its id, through `users.devices.remove`'s function."""
    body = json_body()
    with transaction(services().engine) as connection:
        named = device_address(
            connection, _seen(project_id), _text(body, "userId"), _text(body, "deviceId")
        )
        return remove_named_device(connection, project_id, named)


@bp.post("/<project_id>/suppressions.remove")
def suppressions_remove(project_id: str):
    """Let e-mail go to an address again."""
    address = _text(json_body(), "address")
    with transaction(services().engine) as connection:
        return {"ok": True, "removed": remove_suppression(connection, _seen(project_id), address)}
