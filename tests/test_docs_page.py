"""`/docs`, the API explorer: Swagger UI from bundled files, tried in a real browser."""

from __future__ import annotations

import pytest

from tests.conftest import token, upsert_users


@pytest.fixture
def page(browser):
    """A browser page that records every request going outside Herald."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)  # Swagger UI parses 1.6 MB of script on a busy machine
    outside: list[str] = []
    page.on("request", lambda r: r.url.startswith("http://127.0.0.1") or outside.append(r.url))
    yield page
    page.close()
    assert outside == [], "the explorer loaded something from outside Herald"


def test_the_explorer_assets_are_served_by_herald(herald):
    flask = herald.app.test_client()
    for path in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css"):
        response = flask.get(path)
        assert response.status_code == 200, path
        assert len(response.get_data()) > 10_000
    assert flask.get("/static/swagger-ui/../../__init__.py").status_code == 404


def test_docs_sends_users_get_through_try_it_and_shows_the_answer(herald, client, live_url, page):
    # Given a user of the project
    user_id = f"docs-{token()}"
    upsert_users(client, {"id": user_id, "firstName": "Ada"})
    # When the explorer is given the key and tries users.get
    page.goto(f"{live_url}/docs")
    page.wait_for_selector("text=Conventions")  # the introduction
    page.click("button.authorize")
    page.fill("input[aria-label='auth-bearer-value']", client.key)
    page.click(".auth-btn-wrapper button.authorize")
    page.click(".btn-done")
    operation = page.locator("#operations-Users-usersGet")
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
