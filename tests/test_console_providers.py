"""The console's Providers & webhooks page in Chromium, both modes: the project's chain with
its health, a provider's test send landing in the outbox (embedded) or moto (production); a
webhook endpoint's test posted to a real receiver, its delivery in the log, a replay."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from shared.infra.db import transaction
from shared.webhooks.endpoints import new_secret, upsert_webhook
from tests.support.herald import running_herald
from tests.support.received import emails_sent
from tests.support.webhook_receiver import Receiver
from tests.test_console_page import OPS_TOKEN, pictures, sign_in


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the console on, whose webhooks may post to loopback."""
    with running_herald(
        request, tmp_path_factory, ops_token=OPS_TOKEN, webhooks_allow_private=True
    ) as instance:
        yield instance


@pytest.fixture
def receiver(herald, project, tmp_path):
    """A receiver process and the project's endpoint posting to it."""
    started = Receiver(new_secret(), tmp_path)
    with transaction(herald.engine) as connection:
        made = upsert_webhook(
            connection, herald.settings, project["projectId"], {"url": started.url}
        )
    started.stop()
    started.secret = made["webhook"]["secret"]
    started.start()
    started.webhook_id = made["webhook"]["id"]
    yield started
    started.stop()


def test_a_provider_test_send_shows_its_outcome(herald, herald_url, page, project):
    to = f"probe-{secrets.token_hex(4)}@example.com"
    sign_in(page, herald_url, project["apiKey"])
    page.click("nav >> text=Providers & webhooks")
    page.wait_for_url("**/providers")
    page.wait_for_selector("body[data-loaded=true]")
    email = page.locator("#providers-table tbody tr", has_text="email").first
    expect(email).to_contain_text("default chain")
    expect(email.locator(".chip")).to_have_text("closed")
    email.locator("input").fill(to)
    email.locator("button").click()
    expect(email.locator(".result")).to_contain_text("sent")
    assert any(to in sent["to"] for sent in emails_sent(herald))
    email.locator("input").fill("not-an-address")
    email.locator("input").press("Enter")
    expect(email.locator(".result")).to_contain_text("not-an-address")
    assert page.errors == []


def test_a_webhook_test_reaches_the_receiver_and_shows_in_the_log(
    herald, herald_url, page, project, receiver, screenshots
):
    sign_in(page, herald_url, project["apiKey"])
    page.goto(f"{herald_url}/console/{project['projectId']}/providers")
    page.wait_for_selector("body[data-loaded=true]")
    card = page.locator(f"#webhook-{receiver.webhook_id}")
    expect(card).to_contain_text("enabled")
    card.locator("button", has_text="Test").click()
    expect(card.locator(".result")).to_contain_text("delivered — 204")
    got = receiver.wait_for(1)
    assert [(entry["type"], entry["verified"]) for entry in got] == [("webhook.test", True)]
    expect(card.locator(".deliveries")).to_contain_text(got[0]["id"])
    expect(card.locator(".deliveries")).to_contain_text("succeeded")
    card.locator("input[type=datetime-local]").fill("2020-01-01T00:00")
    card.locator("button", has_text="Replay").click()
    expect(card.locator(".result")).to_contain_text("pending again")
    if herald.mode == "embedded":
        pictures(page, screenshots / "console-providers", full_page=True)
    assert page.errors == []
