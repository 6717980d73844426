"""GET /openapi.json describes what the app serves; GET /docs renders it."""

from __future__ import annotations

import re

import pytest

from api.views.docs import demo_served, is_demo
from tests.support.calls import openapi

IMPLICIT_METHODS = {"HEAD", "OPTIONS"}  # Flask adds these to every rule


def templated(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/unsubscribe/<token>` is `/unsubscribe/{token}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_openapi_describes_exactly_the_registered_routes(herald):
    spec = openapi(herald)
    described = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    registered = {
        (method, templated(rule.rule))
        for rule in herald.app.url_map.iter_rules()
        if rule.endpoint != "static" and (demo_served(herald.settings) or not is_demo(rule.rule))
        for method in rule.methods - IMPLICIT_METHODS
    }
    assert described == registered


def test_docs_page_answers_html_that_loads_the_openapi(herald):
    response = herald.app.test_client().get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "/openapi.json" in page
    assert "http://" not in page and "https://" not in page  # no CDN, nothing external


def test_openapi_is_a_valid_openapi_3_1_document(herald):
    validator = pytest.importorskip("openapi_spec_validator")
    spec = openapi(herald)
    assert spec["openapi"].startswith("3.1")
    validator.validate(spec)
