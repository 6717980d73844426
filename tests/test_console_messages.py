"""The console's Messages pages, both modes: the log filtered (by channel and time too, which
`messages.list` takes as well), one message's channels and timeline, a failed SMS retried once
through a Twilio stand-in that counts its requests, the confirmation an unknown one asks for,
another project's message not found, and all of it from the keyboard; the README's pictures."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.calls import answer, send, until_final, upsert_notification
from tests.support.herald import running_herald
from tests.support.retrying import KEY, texted, texting_client, twilio_fixture  # noqa: F401
from tests.test_console import signed_in
from tests.test_console_page import OPS_TOKEN, focus_on, pictures, sign_in

BELL = {
    "id": "bell",
    "name": "Bell",
    "withWidget": True,
    "templates": {"en": {"widget": {"content": "Hello"}}},
}


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the console on whose projects can keep a provider's credentials."""
    with running_herald(
        request, tmp_path_factory, ops_token=OPS_TOKEN, secret_keys=(KEY,), provider_timeout=1.0
    ) as instance:
        yield instance


def listed(session, project_id: str, **query) -> list[str]:
    """The ids the console's `messages.list` answers for this filter."""
    found = session.get(f"/console/api/{project_id}/messages.list", query_string=query)
    assert found.status_code == 200, found.get_json()
    return [message["id"] for message in found.get_json()["messages"]]


def test_the_log_filters_by_channel_and_time_as_messages_list_does(herald, twilio):
    client, project_id = texting_client(herald, twilio)
    upsert_notification(client, BELL)
    sms = texted(client, twilio, None)
    (bell,) = send(client, {"notificationId": "bell", "userId": "u-bell"})
    bell = until_final(client, bell["id"])
    session = signed_in(herald, client.key)
    assert listed(session, project_id, channel="sms") == [sms["id"]]
    assert listed(session, project_id, channel="widget") == [bell["id"], sms["id"]]
    assert listed(session, project_id, since=bell["createdAt"]) == [bell["id"]]
    assert listed(session, project_id, until=bell["createdAt"]) == [sms["id"]]
    backend = answer(client.get("/messages.list", channel="sms", until=bell["createdAt"]))
    assert [message["id"] for message in backend["messages"]] == [sms["id"]]
    for query, code in (
        ({"channel": "fax"}, "channel/invalid"),
        ({"since": "soon"}, "since/invalid"),
    ):
        refused = session.get(f"/console/api/{project_id}/messages.list", query_string=query)
        assert refused.status_code == 400 and refused.get_json()["error"] == code


def test_a_keys_session_does_not_find_another_projects_message(herald, herald_url, page, twilio):
    client, project_id = texting_client(herald, twilio)
    message = texted(client, twilio, "21211")
    other, other_id = texting_client(herald, twilio)
    session = signed_in(herald, other.key)
    for call in ("messages.get", "messages.timeline"):
        found = session.get(f"/console/api/{other_id}/{call}", query_string={"id": message["id"]})
        assert found.status_code == 404 and found.get_json()["error"] == "message/notFound"
    retried = session.post(
        f"/console/api/{other_id}/messages.retry", json={"id": message["id"], "channel": "sms"}
    )
    assert retried.status_code == 404
    sign_in(page, herald_url, other.key)
    assert page.goto(f"{herald_url}/console/{other_id}/messages/{message['id']}").status == 404
    assert page.goto(f"{herald_url}/console/{project_id}/messages").status == 404
    assert until_final(client, message["id"])["channels"]["sms"]["status"] == "failed"


def test_the_log_filtered_to_a_message_shows_its_channels_and_timeline(
    herald, herald_url, page, twilio, screenshots
):
    client, project_id = texting_client(herald, twilio)
    upsert_notification(client, BELL)
    send(client, {"notificationId": "bell", "userId": "u-someone-else"})
    failed = texted(client, twilio, "21211")
    sign_in(page, herald_url, client.key)
    page.click("text=Messages")
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#messages tbody tr")).to_have_count(2)
    page.fill("#filter-userId", failed["userId"])
    page.select_option("#filter-channel", "sms")
    page.click("#apply-filters")
    page.wait_for_url("**/messages?userId=*")
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#messages tbody tr")).to_have_count(1)
    if herald.mode == "embedded":
        pictures(page, screenshots / "console-messages")
    page.click(f"text={failed['id']}")
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#channel-sms")).to_contain_text("failed")
    expect(page.locator("#channel-widget")).to_contain_text("sent")
    timeline = page.locator("#timeline")
    expect(timeline.locator("[data-kind=accepted]")).to_have_count(1)
    expect(timeline.locator("[data-kind=attempt]")).to_have_count(1)
    expect(timeline).to_contain_text("twilio")
    expect(timeline).to_contain_text("21211")
    if herald.mode == "embedded":
        pictures(page, screenshots / "console-message", full_page=True)
    assert page.errors == []


def test_the_keyboard_alone_goes_from_the_log_to_a_message_and_retries_it_once(
    herald, herald_url, page, twilio, screenshots
):
    client, project_id = texting_client(herald, twilio)
    failed = texted(client, twilio, "21211")
    twilio.fault, before = None, len(twilio.requests)
    sign_in(page, herald_url, client.key)
    page.goto(f"{herald_url}/console/{project_id}/messages")
    page.wait_for_selector("body[data-loaded=true]")
    focus_on(page, "filter-userId")
    page.keyboard.type(failed["userId"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/messages?userId=*")
    page.wait_for_selector("body[data-loaded=true]")
    tab_to_link(page, failed["id"])
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-loaded=true]")
    focus_on(page, "retry-sms")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("#channel-sms .chip")).to_have_text("sent", timeout=20_000)
    expect(page.locator("#retry-status")).to_contain_text("now sent")
    expect(page.locator("#retry-sms")).to_have_count(0)
    expect(page.locator("#timeline [data-kind=attempt]")).to_have_count(2)
    time.sleep(0.3)  # nothing else goes
    assert len(twilio.requests) == before + 1
    if herald.mode == "embedded":
        pictures(page, screenshots / "console-message-retried", full_page=True)
    assert page.errors == []


def test_an_unknown_channel_is_retried_only_after_its_confirmation(
    herald, herald_url, page, twilio
):
    client, project_id = texting_client(herald, twilio)
    unknown = texted(client, twilio, "500")
    assert unknown["channels"]["sms"]["status"] == "unknown", unknown
    twilio.fault, before = None, len(twilio.requests)
    sign_in(page, herald_url, client.key)
    page.goto(f"{herald_url}/console/{project_id}/messages/{unknown['id']}")
    page.wait_for_selector("body[data-loaded=true]")
    page.click("#retry-sms")
    expect(page.locator("#confirm-retry")).to_contain_text("may arrive twice")
    page.click("#confirm-cancel")
    expect(page.locator("#confirm-retry")).to_have_count(0)
    time.sleep(0.3)
    assert len(twilio.requests) == before
    page.click("#retry-sms")
    page.click("#confirm-yes")
    expect(page.locator("#channel-sms .chip")).to_have_text("sent", timeout=20_000)
    assert len(twilio.requests) == before + 1
    assert page.errors == []


def test_a_refused_retry_shows_the_apis_sentence(herald, herald_url, page, twilio):
    client, project_id = texting_client(herald, twilio)
    failed = texted(client, twilio, "21211")
    sign_in(page, herald_url, client.key)
    page.goto(f"{herald_url}/console/{project_id}/messages/{failed['id']}")
    page.wait_for_selector("body[data-loaded=true]")
    # Given another tab retried it meanwhile
    twilio.fault, before = None, len(twilio.requests)
    session = signed_in(herald, client.key)
    body = {"id": failed["id"], "channel": "sms"}
    assert session.post(f"/console/api/{project_id}/messages.retry", json=body).status_code == 200
    page.click("#retry-sms")
    expect(page.locator("#retry-error")).to_contain_text(re.compile("retr"))
    until_final(client, failed["id"], lambda m: m["channels"]["sms"]["status"] == "sent")
    time.sleep(0.3)
    assert len(twilio.requests) == before + 1
    assert page.errors == []


def tab_to_link(page, text: str, limit: int = 60) -> None:
    """Tab until the focused element is the link that says this."""
    for _ in range(limit):
        if page.evaluate("document.activeElement.textContent") == text:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached the link {text!r}")
