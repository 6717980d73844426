"""`/ops` says which endpoints Herald turned off (a 410; failing for the disable time) and which
are failing now, across projects, both modes; `webhooks.list` says the same to the project."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from shared.infra.db import transaction
from shared.webhooks import upsert_webhook, webhooks
from shared.webhooks.endpoints import new_secret
from tests.support.backends import fresh_database
from tests.support.browser import served
from tests.support.calls import Client, answer, send, upsert_notification
from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald
from tests.support.webhook_receiver import Receiver

OPS_TOKEN = "ops-" + "w3bhooks"
NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withWidget": True,
    "templates": {"en": {"widget": {"content": "Hi"}}},
}
SETTINGS = {
    "ops_token": OPS_TOKEN,
    "webhooks_allow_private": True,
    "webhook_retries": (0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2),
    "webhook_timeout": 2.0,
    "webhook_disable_after": 1.0,
}


@pytest.fixture(params=["embedded", "production"])
def herald(request, tmp_path):
    """A Herald of its own database, so that /ops counts this test's endpoints only."""
    if request.param == "embedded":
        herald = build_herald("embedded", tmp_path, request, **SETTINGS)
        yield herald
        stop_herald(herald)
        return
    with fresh_database("herald_webhook_ops") as url:
        herald = build_herald("production", tmp_path, request, database_url=url, **SETTINGS)
        yield herald
        stop_herald(herald)


def _endpoint(herald, tmp_path, mode: str) -> tuple[Client, Receiver, str]:
    """A project with one endpoint to a receiver answering as `mode`: client, receiver, id."""
    project = new_project(herald, "ops")
    folder = tmp_path / mode.replace(":", "-")
    folder.mkdir()
    receiver = Receiver(new_secret(), folder, mode)
    with transaction(herald.engine) as connection:
        made = upsert_webhook(
            connection, herald.settings, project["projectId"], {"url": receiver.url}
        )
    receiver.stop()
    receiver.secret = made["webhook"]["secret"]
    receiver.start()
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, NOTICE)
    return client, receiver, made["webhook"]["id"]


def _turned_off(herald, ids: set[str], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with herald.engine.connect() as connection:
            rows = connection.execute(select(webhooks.c.id).where(webhooks.c.id.in_(ids))).all()
            off = connection.execute(
                select(webhooks.c.id).where(webhooks.c.id.in_(ids), webhooks.c.enabled.is_(False))
            ).all()
        if len(off) == len(rows) == len(ids):
            return
        time.sleep(0.1)
    raise AssertionError(f"not turned off within {within} s: {ids}")


def test_ops_lists_the_endpoints_turned_off_and_failing(herald, tmp_path, page):
    made = {mode: _endpoint(herald, tmp_path, mode) for mode in ("gone", "fail:100000", "ok")}
    try:
        for client, _, _ in made.values():
            send(client, {"notificationId": "notice", "userId": f"u-{token()}"})
        _turned_off(herald, {made["gone"][2], made["fail:100000"][2]})
        flask = herald.app.test_client()
        assert flask.post("/ops/login", data={"token": OPS_TOKEN}).status_code == 303
        hooks = flask.get("/ops/data").get_json()["webhooks"]
        # And the page draws it
        with served(herald.app) as url:
            page.goto(f"{url}/ops")
            page.fill("#token", OPS_TOKEN)
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-loaded=true]")
            panel = page.inner_text("#webhooks")
    finally:
        for _, receiver, _ in made.values():
            receiver.stop()
    assert (hooks["enabled"], hooks["disabled"], hooks["failing"]) == (1, 2, 0), hooks
    states = {entry["id"]: entry["state"] for entry in hooks["troubled"]}
    assert states == {made["gone"][2]: "gone", made["fail:100000"][2]: "failing"}
    failing = next(e for e in hooks["troubled"] if e["state"] == "failing")
    assert failing["failingSeconds"] >= SETTINGS["webhook_disable_after"]
    assert "answered 410" in panel and "off: failing" in panel
    assert made["ok"][2] not in panel
    # And each project's webhooks.list says its endpoint is off, and why
    for mode, disabled in (("gone", "gone"), ("fail:100000", "failing")):
        [entry] = answer(made[mode][0].get("/webhooks.list"))["webhooks"]
        assert (entry["enabled"], entry.get("disabledReason")) == (False, disabled), entry
