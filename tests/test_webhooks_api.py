"""The webhook endpoints API (SPEC §9), both modes: endpoints saved, listed, deleted, their
secret shown once and rotated, a test post to a real receiver in its own process that
verifies every signature with `standardwebhooks`, the deliveries log; bad input refused with
a code and nothing stored, never a connection to a refused address; another project's
endpoint not found."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from shared.infra.db import autocommit
from shared.infra.secrets import secret_box
from shared.webhooks import webhooks
from tests.support.calls import Client, answer, openapi
from tests.support.herald import new_project, swapped
from tests.support.webhook_test_receiver import Receiver, listening
from tests.test_answers import Caller, Conformance


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    """A receiver process of this module, verifying every post's signatures."""
    started = Receiver(tmp_path_factory.mktemp("receiver"))
    yield started
    started.stop()


@contextlib.contextmanager
def private_allowed(herald, **more):
    """Inside the block Herald runs with HERALD_WEBHOOKS_ALLOW_PRIVATE=1 (the receiver is on
    loopback), and these settings."""
    settings = replace(herald.settings, webhooks_allow_private=True, **more)
    with swapped(herald, settings=settings):
        yield


def upsert(client: Client, status: int = 200, **fields) -> dict:
    body = {"events": ["*"], **fields}
    return answer(client.post("/webhooks.upsert", body), status)


def listed(client: Client) -> list[dict]:
    return answer(client.get("/webhooks.list"))["webhooks"]


def test_the_secret_is_shown_when_created_and_never_again(herald, client, receiver):
    with private_allowed(herald):
        created = upsert(client, url=f"{receiver.url}/a", events=["message.sent", "message.read"])
        hook = created["webhook"]
        assert hook["secret"].startswith("whsec_") and len(hook["secret"]) == 6 + 32
        assert hook["events"] == ["message.read", "message.sent"] and hook["enabled"] is True
        changed = upsert(client, id=hook["id"], url=f"{receiver.url}/b", enabled=False)
    assert "secret" not in changed["webhook"]
    assert changed["webhook"] | {"secret": hook["secret"]} == hook | {
        "url": f"{receiver.url}/b",
        "events": ["*"],
        "enabled": False,
    }
    [shown] = listed(client)
    assert "secret" not in shown and shown["id"] == hook["id"]


def test_delete_removes_the_endpoint_and_a_second_delete_is_not_found(herald, client, receiver):
    with private_allowed(herald):
        hook = upsert(client, url=receiver.url)["webhook"]
    assert answer(client.post("/webhooks.delete", {"id": hook["id"]})) == {
        "ok": True,
        "id": hook["id"],
    }
    assert listed(client) == []
    gone = answer(client.post("/webhooks.delete", {"id": hook["id"]}), 404)
    assert gone["error"] == "webhook/notFound"


def test_the_secret_is_stored_sealed_when_herald_secret_key_is_set(herald, client, receiver):
    key = Fernet.generate_key().decode()
    with private_allowed(herald, secret_keys=(key,)):
        hook = upsert(client, url=receiver.url)["webhook"]
        rotated = answer(client.post("/webhooks.rotateSecret", {"id": hook["id"]}))["webhook"]
    with autocommit(herald.engine) as connection:
        query = select(webhooks.c.secret, webhooks.c.old_secret).where(webhooks.c.id == hook["id"])
        stored, old = connection.execute(query).one()
    assert hook["secret"] not in stored and rotated["secret"] not in stored
    assert secret_box((key,)).open(stored) == rotated["secret"]
    assert secret_box((key,)).open(old) == hook["secret"]


def test_a_test_post_is_signed_and_verified_by_the_receiver(herald, client, receiver):
    with private_allowed(herald):
        hook = upsert(client, url=f"{receiver.url}/signed")["webhook"]
        receiver.trust(hook["secret"])
        tested = answer(client.post("/webhooks.test", {"id": hook["id"]}))
    assert tested["ok"] is True and tested["statusCode"] == 200, tested
    assert tested["durationMs"] >= 0 and "error" not in tested
    [got] = [r for r in receiver.received() if r["headers"]["webhook-id"] == tested["eventId"]]
    assert got["path"] == "/signed" and got["verifiedBy"] == [0] and got["signatures"] == 1
    assert got["body"]["type"] == "webhook.test"
    assert got["body"]["data"] == {"webhookId": hook["id"]}
    [delivery] = answer(client.get("/webhooks.deliveries", id=hook["id"]))["deliveries"]
    assert delivery["eventId"] == tested["eventId"] and delivery["type"] == "webhook.test"
    assert (delivery["status"], delivery["attempts"], delivery["statusCode"]) == (
        "succeeded",
        1,
        200,
    )
    assert delivery["nextRetryAt"] is None and delivery["error"] is None


def test_after_a_rotation_both_secrets_sign_and_each_verifies(herald, client, receiver):
    with private_allowed(herald):
        hook = upsert(client, url=f"{receiver.url}/rotated")["webhook"]
        rotated = answer(client.post("/webhooks.rotateSecret", {"id": hook["id"]}))["webhook"]
        assert rotated["secret"] != hook["secret"] and rotated["id"] == hook["id"]
        receiver.trust(rotated["secret"], hook["secret"], "whsec_" + "A" * 32)
        tested = answer(client.post("/webhooks.test", {"id": hook["id"]}))
    [got] = [r for r in receiver.received() if r["headers"]["webhook-id"] == tested["eventId"]]
    assert got["signatures"] == 2 and got["verifiedBy"] == [0, 1]


def test_a_failing_endpoint_is_answered_and_logged(herald, client, receiver):
    with private_allowed(herald):
        hook = upsert(client, url=f"{receiver.url}/status/500")["webhook"]
        tested = answer(client.post("/webhooks.test", {"id": hook["id"]}))
    assert (tested["ok"], tested["statusCode"], tested["error"]) == (False, 500, "HTTP 500")
    [delivery] = answer(client.get("/webhooks.deliveries", id=hook["id"]))["deliveries"]
    assert (delivery["status"], delivery["statusCode"]) == ("failed", 500)


def test_the_address_is_checked_again_at_send_time(herald, client, receiver):
    # Given endpoints saved while private addresses were allowed
    with private_allowed(herald):
        plain = upsert(client, url=f"{receiver.url}/late")["webhook"]
    with listening() as (port, connected):
        with private_allowed(herald):
            local = upsert(client, url=f"https://localhost:{port}/hook")["webhook"]
        # When they are tested once the switch is off
        tested = [answer(client.post("/webhooks.test", {"id": h["id"]})) for h in (plain, local)]
        # Then each is refused before any connection, and the attempt says why
        assert not connected()
    assert [t["error"].split(":")[0] for t in tested] == ["url/invalid", "url/private"]
    assert all(t["ok"] is False and t["statusCode"] is None for t in tested)
    assert not [r for r in receiver.received() if r["path"] == "/late"]
    [delivery] = answer(client.get("/webhooks.deliveries", id=local["id"]))["deliveries"]
    assert delivery["status"] == "failed" and delivery["error"].startswith("url/private")


def test_deliveries_page_newest_first_and_filter_by_status(herald, client, receiver):
    with private_allowed(herald):
        hook = upsert(client, url=f"{receiver.url}/pages")["webhook"]
        events = [answer(client.post("/webhooks.test", {"id": hook["id"]}))["eventId"]]
        events += [answer(client.post("/webhooks.test", {"id": hook["id"]}))["eventId"]]
        upsert(client, id=hook["id"], url=f"{receiver.url}/status/503")
        events += [answer(client.post("/webhooks.test", {"id": hook["id"]}))["eventId"]]
    seen, cursor = [], None
    while True:
        more = {"cursor": cursor} if cursor else {}
        page = answer(client.get("/webhooks.deliveries", id=hook["id"], limit=2, **more))
        seen += [delivery["eventId"] for delivery in page["deliveries"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == events[::-1]
    failed = answer(client.get("/webhooks.deliveries", id=hook["id"], status="failed"))
    assert [d["eventId"] for d in failed["deliveries"]] == [events[2]]
    for query, code in [
        ({"cursor": "bm90LWFuLWV2ZW50"}, "cursor/invalid"),
        ({"cursor": "é"}, "cursor/invalid"),
        ({"limit": "0"}, "limit/invalid"),
        ({"limit": "9" * 5000}, "limit/invalid"),
        ({"status": "sent"}, "status/invalid"),
    ]:
        refused = answer(client.get("/webhooks.deliveries", id=hook["id"], **query), 400)
        assert refused["error"] == code, query
    assert answer(client.get("/webhooks.deliveries"), 400)["error"] == "id/required"


def test_another_projects_endpoint_is_not_found(herald, client, receiver):
    other = Client(herald.app, new_project(herald, "other")["apiKey"])
    with private_allowed(herald):
        hook = upsert(other, url=f"{receiver.url}/theirs")["webhook"]
        for path in ("/webhooks.delete", "/webhooks.rotateSecret", "/webhooks.test"):
            refused = answer(client.post(path, {"id": hook["id"]}), 404)
            assert refused["error"] == "webhook/notFound", path
        refused = answer(client.get("/webhooks.deliveries", id=hook["id"]), 404)
    assert refused["error"] == "webhook/notFound"
    assert not [r for r in receiver.received() if r["path"] == "/theirs"]
    assert [h["id"] for h in listed(other)] == [hook["id"]]


def test_the_51st_endpoint_is_refused(herald, client, receiver):
    with private_allowed(herald):
        for n in range(50):
            upsert(client, url=f"{receiver.url}/{n}")
        refused = upsert(client, 400, url=f"{receiver.url}/51")
    assert refused["error"] == "webhooks/tooMany" and refused["message"]
    assert len(listed(client)) == 50


def test_every_answer_matches_the_openapi(herald, client, receiver):
    caller = Caller(Conformance(openapi(herald)), client)
    with private_allowed(herald):
        hook = caller.post("/webhooks.upsert", {"url": receiver.url, "events": ["*"]})["webhook"]
        named = {"id": hook["id"]}
        caller.post(
            "/webhooks.upsert", {**named, "url": f"{receiver.url}/status/410", "events": ["*"]}
        )
        caller.post("/webhooks.rotateSecret", named)
        assert caller.post("/webhooks.test", named)["statusCode"] == 410
        assert (
            caller.post("/webhooks.upsert", {"url": 5, "events": ["*"]})["error"] == "url/invalid"
        )
    assert caller.get("/webhooks.list")["webhooks"][0]["id"] == hook["id"]
    assert len(caller.get("/webhooks.deliveries", id=hook["id"], limit=1)["deliveries"]) == 1
    assert (
        caller.get("/webhooks.deliveries", id=hook["id"], cursor="x")["error"] == "cursor/invalid"
    )
    caller.post("/webhooks.delete", named)
    assert caller.post("/webhooks.delete", named)["error"] == "webhook/notFound"
