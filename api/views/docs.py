"""The API's description: `/openapi.json`, and `/docs`, the page that renders it."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of the API."""
    spec = resources.files("api").joinpath("static/openapi.json").read_text(encoding="utf-8")
    return Response(spec, mimetype="application/json")


@bp.get("/docs")
def docs():
    """A readable page of the API, built from the OpenAPI description."""
    page = resources.files("api").joinpath("static/docs.html").read_text(encoding="utf-8")
    return Response(page, mimetype="text/html")
