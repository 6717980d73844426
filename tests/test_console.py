"""The console's sign-in and its JSON calls: the operator sees every project, a key its own
alone (another's answers 404), a revoked key's session ends at its next request, state changes
take JSON only, and a refused template saves nothing; in both modes."""

from __future__ import annotations

import secrets

import pytest

from api.http.headers import CONSOLE
from shared.infra.db import transaction
from shared.tenancy.projects import revoke_key
from tests.support.calls import upsert_notification
from tests.support.herald import new_project, running_herald

OPS_TOKEN = "ops-" + secrets.token_hex(8)
SHIPPED = {
    "id": "shipped",
    "name": "Order shipped",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Order {{ order }}", "text": "On its way."}}},
}


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the operator token set (the console's sessions are signed with it)."""
    with running_herald(request, tmp_path_factory, ops_token=OPS_TOKEN) as instance:
        yield instance


def browser(herald):
    """A test client of its own address (its own sign-in budget)."""
    client = herald.app.test_client()
    host = f"{secrets.randbelow(256)}.{secrets.randbelow(250) + 1}"
    client.environ_base["REMOTE_ADDR"] = f"10.9.{host}"
    return client


def signed_in(herald, token: str):
    """A client holding the console's session cookie of this token or key."""
    client = browser(herald)
    answer = client.post("/console/login", data={"token": token})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert token not in cookie
    return client


def test_the_sign_in_form_is_served_under_its_own_policy(herald):
    page = browser(herald).get("/console")
    assert page.status_code == 200 and 'action="/console/login"' in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"] == CONSOLE
    assert "script-src 'self'" in CONSOLE and "frame-ancestors 'none'" in CONSOLE
    refused = browser(herald).post("/console/login", data={"token": "nope"})
    assert refused.status_code == 401 and "neither" in refused.get_data(as_text=True)


def test_the_operator_sees_every_project_and_a_key_its_own_alone(herald, client, project):
    other = new_project(herald, "other")
    upsert_notification(client, SHIPPED)
    operator = signed_in(herald, OPS_TOKEN)
    seen = operator.get("/console/api/projects").get_json()
    assert seen["operator"] is True
    assert {project["projectId"], other["projectId"]} <= {p["id"] for p in seen["projects"]}
    # A key's session: its project alone; another project's notification answers 404
    keyed = signed_in(herald, other["apiKey"])
    seen = keyed.get("/console/api/projects").get_json()
    assert (seen["operator"], [p["id"] for p in seen["projects"]]) == (False, [other["projectId"]])
    mine = f"/console/{project['projectId']}/notifications/shipped"
    assert operator.get(mine).status_code == 200
    assert keyed.get(mine).status_code == 404
    listed = keyed.get(f"/console/api/{project['projectId']}/notifications.list")
    assert (listed.status_code, listed.get_json()["error"]) == (404, "project/notFound")
    assert keyed.get(f"/console/{other['projectId']}/notifications/shipped").status_code == 404
    assert keyed.get(f"/console/{other['projectId']}/notifications").status_code == 200


def test_a_revoked_keys_session_stops_at_its_next_request(herald, project):
    keyed = signed_in(herald, project["apiKey"])
    path = f"/console/api/{project['projectId']}/notifications.list"
    assert keyed.get(path).status_code == 200
    with transaction(herald.engine) as connection:
        assert revoke_key(connection, project["apiKey"])
    refused = keyed.get(path)
    assert (refused.status_code, refused.get_json()["error"]) == (401, "auth/invalid")
    assert "revoked" in keyed.get("/console").get_data(as_text=True)


def test_state_changes_take_json_only(herald, project):
    keyed = signed_in(herald, project["apiKey"])
    form = keyed.post(
        f"/console/api/{project['projectId']}/notifications.upsert", data={"id": "x", "name": "x"}
    )
    assert (form.status_code, form.get_json()["error"]) == (415, "body/notJson")


def test_a_refused_template_names_its_line_and_saves_nothing(herald, project):
    keyed = signed_in(herald, project["apiKey"])
    base = f"/console/api/{project['projectId']}"
    broken = {
        **SHIPPED,
        "templates": {"en": {"email": {"subject": "Hi", "text": "one\n{{ order }\nthree"}}},
    }
    refused = keyed.post(f"{base}/notifications.upsert", json=broken)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "template/invalid"
    assert "en.email.text, line 2" in refused.get_json()["message"]
    assert keyed.get(f"{base}/notifications.list").get_json() == {"notifications": []}
    # The preview answers the same sentence; a good body renders, naming its undefined names
    preview = keyed.post(f"{base}/templates.preview", json={"notification": broken, "data": {}})
    assert preview.get_json()["message"] == refused.get_json()["message"]
    shown = keyed.post(f"{base}/templates.preview", json={"notification": SHIPPED, "data": {}})
    assert shown.get_json()["email"]["subject"] == "Order" and shown.get_json()["undefined"]


def test_the_built_bundle_is_committed_and_served(herald, project):
    from pathlib import Path

    keyed = signed_in(herald, project["apiKey"])
    page = keyed.get(f"/console/{project['projectId']}/notifications")
    html = page.get_data(as_text=True)
    assert '<script src="/static/console/console.js">' in html and "https://" not in html
    for asset in ("console.js", "console.css"):
        assert (Path("api/static/console") / asset).stat().st_size > 0
        assert herald.app.test_client().get(f"/static/console/{asset}").status_code == 200
