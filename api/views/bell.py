"""`/widget.js`, the bell's script, for pages of any origin."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response

bp = Blueprint("bell", __name__)


@bp.get("/widget.js")
def widget_js():
    """The bell, for pages of any origin."""
    script = resources.files("api").joinpath("static/widget.js").read_text(encoding="utf-8")
    response = Response(script, mimetype="text/javascript")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
