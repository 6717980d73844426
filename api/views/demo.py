"""`/demo`, when asked for in the embedded mode (HERALD_DEMO): a page with the bell of a demo user
and buttons that send it notifications."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.exceptions import NotFound as RouteNotFound

from api.http.requests import json_body, services
from api.views.docs import demo_served, is_demo
from shared.infra.errors import HeraldError
from shared.infra.secrets import secret_box
from shared.operations.demo import ensure_demo, initials, send_demo

bp = Blueprint("demo", __name__, template_folder="../templates")  # api/templates

AVATAR_COLOURS = ("#4f46e5", "#0891b2", "#059669", "#d97706", "#db2777", "#7c3aed")


@bp.before_app_request
def _demo_only_when_asked() -> None:
    """Every `/demo` path, whatever its method, answers as an unknown route (404) unless this
    Herald is embedded and asks for the demo (HERALD_DEMO; on for `herald serve` on loopback):
    the demo writes a project of its own and sends without a key."""
    if is_demo(request.path) and not demo_served(services().settings):
        raise RouteNotFound()


@bp.get("/demo")
def page():
    """A page with the bell of a demo user and buttons that send it notifications."""
    svc = services()
    demo = ensure_demo(svc.engine, secret_box(svc.settings.secret_keys))
    return render_template("demo.html", demo=demo, host=request.host_url.rstrip("/"))


@bp.post("/demo/send")
def send():
    """Send the demo user a notification (`{"stacked": true}`: one that stacks)."""
    stacked = json_body().get("stacked", False)
    if not isinstance(stacked, bool):
        raise HeraldError("stacked/invalid", "stacked must be true or false.")
    svc = services()
    demo = ensure_demo(svc.engine, secret_box(svc.settings.secret_keys))
    avatars = url_for("demo.avatar", _external=True)
    wait = svc.settings.send_wait
    result = send_demo(svc.engine, svc.broker, demo, stacked, avatars, wait)
    return {"result": result}


@bp.get("/demo/avatar.svg")
def avatar():
    """A round avatar with up to two initials, so the demo needs nothing from the internet."""
    letters = initials(request.args.get("name", ""))
    colour = AVATAR_COLOURS[hashlib.sha256(letters.encode()).digest()[0] % len(AVATAR_COLOURS)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="72" height="72" viewBox="0 0 72 72">'
        f'<rect width="72" height="72" rx="20" fill="{colour}"/>'
        '<text x="36" y="37" dominant-baseline="central" text-anchor="middle" fill="#fff" '
        'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="28" '
        f'font-weight="600">{letters}</text></svg>'
    )
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
