"""The API's description: `/openapi.json`, and `/docs`, the page that renders it."""

from __future__ import annotations

import json
from importlib import resources

from flask import Blueprint, Response

from api.http.requests import services
from shared.infra.config import Settings

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of the API this Herald serves: without `/demo` unless the demo
    is on (HERALD_DEMO, embedded)."""
    spec = resources.files("api").joinpath("static/openapi.json").read_text(encoding="utf-8")
    if not demo_served(services().settings):
        described = json.loads(spec)
        described["paths"] = {
            path: item for path, item in described["paths"].items() if not is_demo(path)
        }
        spec = json.dumps(described, ensure_ascii=False)
    return Response(spec, mimetype="application/json")


def is_demo(path: str) -> bool:
    """A path of the demo page."""
    return path == "/demo" or path.startswith("/demo/")


def demo_served(settings: Settings) -> bool:
    """The demo answers only on an embedded Herald that asks for it."""
    return settings.demo and settings.embedded


@bp.get("/docs")
def docs():
    """A readable page of the API, built from the OpenAPI description."""
    page = resources.files("api").joinpath("static/docs.html").read_text(encoding="utf-8")
    return Response(page, mimetype="text/html")
