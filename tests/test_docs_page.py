"""`/docs`, the API explorer: Swagger UI from bundled files, tried in a real browser."""

from __future__ import annotations

import pytest

from tests.support.calls import upsert_users
from tests.support.data import token


@pytest.fixture
def explorer(page):
    """A browser page that records every request going outside Herald."""
    page.set_default_timeout(60_000)  # Swagger UI parses 1.6 MB of script on a busy machine
    outside: list[str] = []
    page.on("request", lambda r: r.url.startswith("http://127.0.0.1") or outside.append(r.url))
    yield page
    assert outside == [], "the explorer loaded something from outside Herald"


def test_the_explorer_assets_are_served_by_herald(herald):
    flask = herald.app.test_client()
    for path in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css"):
        response = flask.get(path)
        assert response.status_code == 200, path
        assert len(response.get_data()) > 10_000
    assert flask.get("/static/swagger-ui/../../__init__.py").status_code == 404


def test_docs_sends_users_get_through_try_it_and_shows_the_answer(client, herald_url, explorer):
    # Given a user of the project
    user_id = f"docs-{token()}"
    upsert_users(client, {"id": user_id, "firstName": "Ada"})
    # When the explorer is given the key and tries users.get
    explorer.goto(f"{herald_url}/docs")
    explorer.wait_for_selector("text=Conventions")  # the introduction
    explorer.click("button.authorize")
    explorer.fill("input[aria-label='auth-bearer-value']", client.key)
    explorer.click(".auth-btn-wrapper button.authorize")
    explorer.click(".btn-done")
    operation = explorer.locator("#operations-Users-usersGet")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("tr[data-param-name='id'] input").fill(user_id)
    operation.locator("button.execute").click()
    # Then it shows Herald's answer
    answer = operation.locator(".live-responses-table .response .response-col_description pre")
    answer.first.wait_for()
    body = answer.first.inner_text()
    assert f'"id": "{user_id}"' in body and '"firstName": "Ada"' in body
    status = operation.locator(".live-responses-table tbody .response-col_status")
    assert status.first.inner_text().strip() == "200"
