"""`/widget.js`, the bell's script, for pages of any origin.

Its sources are `api/static/widget/*.js`, parts of one closure (`intro.js` opens it, `outro.js`
closes it), joined in the order of SOURCES once a process, at the first request.
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
    "main",  # the Bell's life, and `Herald.init`
    "outro",  # the end of the closure
)


@cache
def script() -> str:
    """The bell's script: its sources joined, each separated from the next by a blank line."""
    folder = resources.files("api").joinpath("static/widget")
    return "\n".join(folder.joinpath(f"{name}.js").read_text(encoding="utf-8") for name in SOURCES)


@bp.get("/widget.js")
def widget_js():
    """The bell, for pages of any origin."""
    response = Response(script(), mimetype="text/javascript")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
