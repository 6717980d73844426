"""`/widget.js`, the bell's script, for pages of any origin; `/widget-sw.js`, the service worker
of its browser notifications, for sites to host at their own origin.

The bell's sources are `api/static/widget/*.js`, parts of one closure (`intro.js` opens it,
`outro.js` closes it), joined in the order of SOURCES once a process, at the first request;
`service_worker.js` stands apart, served as it is.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from flask import Blueprint, Response

bp = Blueprint("bell", __name__)

SOURCES = (
    "intro",  # the banner, the closure, where the script was loaded from
    "strings",  # the words of the bell, replaceable by `options.text`
    "styles",  # icons and the stylesheet of the shadow root
    "sanitize",  # message HTML rebuilt from an allow-list
    "dom",  # building elements; formatting counts and times
    "favicon",  # the unread dot on the page's icon
    "transport",  # the frontend API's calls; the stream, or polling
    "panel",  # the bell's DOM; opening, closing, tabs, keys
    "list_view",  # the inbox: its pages, live changes, reading, rendering
    "settings_view",  # a switch per channel a notification lets the user mute
    "push_switch",  # browser notifications: the permission, the service worker, the subscription
    "main",  # the Bell's life, and `Herald.init`
    "outro",  # the end of the closure
)


def _source(name: str) -> str:
    """One file of `api/static/widget/`."""
    return resources.files("api").joinpath(f"static/widget/{name}.js").read_text(encoding="utf-8")


@cache
def script() -> str:
    """The bell's script: its sources joined, each separated from the next by a blank line."""
    return "\n".join(_source(name) for name in SOURCES)


@cache
def service_worker() -> str:
    """The service worker that shows the bell's browser notifications."""
    return _source("service_worker")


@bp.get("/widget.js")
def widget_js():
    """The bell, for pages of any origin."""
    response = Response(script(), mimetype="text/javascript")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/widget-sw.js")
def widget_sw_js():
    """The service worker of the bell's browser notifications. Checked again at every load
    (no-cache), so a new version reaches browsers at once; allowed to control the whole site
    when a page hosts it under another path."""
    response = Response(service_worker(), mimetype="application/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response
