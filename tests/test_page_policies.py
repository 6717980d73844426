"""Every answer is never framed or sniffed, and carries a content security policy that fits
it: nothing for JSON and files, only their own scripts for /ops, /docs and the demo; the
pages still work in Chromium under their policy, in both modes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import served
from tests.support.herald import running_herald

OPS_TOKEN = "ops-policies-token"
NOTHING = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# What each kind of answer is, as (method, path, body): the policy is the view's, not the status.
ANSWERS = {
    "ops sign-in page": ("GET", "/ops", None),
    "ops sign-in refused": ("POST", "/ops/login", {"token": "wrong"}),
    "ops JSON": ("GET", "/ops/data", None),
    "docs page": ("GET", "/docs", None),
    "OpenAPI": ("GET", "/openapi.json", None),
    "the bell's script": ("GET", "/widget.js", None),
    "a static file": ("GET", "/static/ops/ops.js", None),
    "a probe": ("GET", "/healthz", None),
    "an unknown route": ("GET", "/no-such-page", None),
    "a backend error": ("POST", "/messages.send", None),
    "a frontend error": ("GET", "/front/users.get", None),
    "the demo": ("GET", "/demo", None),
    "the unsubscribe page": ("GET", "/unsubscribe/not-a-token", None),
}
PAGES = ("/ops", "/docs", "/demo")


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the operator page on (and, embedded, the demo)."""
    with running_herald(request, tmp_path_factory, ops_token=OPS_TOKEN) as instance:
        yield instance


def call(herald, name: str):
    method, path, form = ANSWERS[name]
    return herald.app.test_client().open(path, method=method, data=form)


def directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy value as {directive: sources}."""
    pairs = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: sources for name, sources in pairs}


@pytest.mark.parametrize("name", ANSWERS)
def test_every_answer_refuses_framing_and_sniffing(herald, name):
    response = call(herald, name)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'"
    assert policy["base-uri"] == "'none'"


@pytest.mark.parametrize("name", ["ops JSON", "OpenAPI", "the bell's script", "a probe"])
def test_json_and_files_may_load_nothing(herald, name):
    assert call(herald, name).headers["Content-Security-Policy"] == NOTHING


@pytest.mark.parametrize("path", PAGES)
def test_pages_run_only_their_own_script_files(herald, path):
    response = herald.app.test_client().get(path)
    if response.status_code == 404:  # the demo, in production
        assert herald.mode == "production" and path == "/demo"
        return
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    # No script in the page itself: each is a file of Herald's (a JSON block runs nothing)
    html = response.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "an inline event handler"


def test_only_the_ops_sign_in_form_may_post(herald):
    ops = directives(call(herald, "ops sign-in page").headers["Content-Security-Policy"])
    assert ops["form-action"] == "'self'" and ops["style-src"] == "'self'"
    docs = directives(call(herald, "docs page").headers["Content-Security-Policy"])
    assert docs["form-action"] == "'none'"


@pytest.fixture
def live_url(herald):
    with served(herald.app) as url:
        yield url


@pytest.fixture
def watched(page):
    """A browser page that records every refusal of its content security policy."""
    page.set_default_timeout(60_000)
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refusals.append(message.text),
    )
    page.refusals = refusals
    return page


def test_the_pages_work_in_chromium_under_their_policies(herald, live_url, watched):
    # The operator page: sign in, its figures drawn by its script
    watched.goto(f"{live_url}/ops")
    watched.fill("#token", OPS_TOKEN)
    watched.click("button[type=submit]")
    watched.wait_for_selector("body[data-loaded=true]")
    # The API explorer: Swagger UI drawn, an operation opened
    watched.goto(f"{live_url}/docs")
    watched.wait_for_selector("text=Conventions")
    watched.locator("#operations-Users-usersGet .opblock-summary").click()
    watched.wait_for_selector("#operations-Users-usersGet button.try-out__btn")
    if herald.mode == "embedded":  # the demo: the bell and its send buttons
        watched.goto(f"{live_url}/demo")
        watched.get_by_role("button", name="Send a comment").click()
        expect(watched.locator("#status")).to_contain_text("Sent (")
        expect(watched.locator(".hd-badge")).not_to_have_text("")
    assert watched.refusals == []
    assert watched.errors == []
