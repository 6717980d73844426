"""The console in Chromium, both modes: sign in both ways, create a notification by typing into
the editor and watch the preview follow, see a template error on its line, save, reload, test
send into the provider, all of it from the keyboard too; the README's pictures."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.support.calls import upsert_notification, upsert_users
from tests.support.herald import new_project, running_herald
from tests.support.received import emails_sent

OPS_TOKEN = "ops-" + secrets.token_hex(8)


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the console on, answering a send within 2 seconds."""
    with running_herald(request, tmp_path_factory, ops_token=OPS_TOKEN, send_wait=2.0) as instance:
        yield instance


def sign_in(page, herald_url: str, token: str) -> None:
    """Sign in through the form; the first project's notifications load."""
    page.goto(f"{herald_url}/console")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-loaded=true]")


def test_the_operator_switches_projects_and_a_key_sees_its_own(
    herald, herald_url, page, client, project
):
    other = new_project(herald, "zz-other")
    upsert_notification(
        client,
        {
            "id": "mine",
            "name": "Mine",
            "withSMS": True,
            "templates": {"en": {"sms": {"text": "hi"}}},
        },
    )
    sign_in(page, herald_url, OPS_TOKEN)
    options = page.locator("#project-switch option")
    assert options.count() >= 2
    page.select_option("#project-switch", project["projectId"])
    page.wait_for_url(f"**/console/{project['projectId']}/notifications")
    expect(page.locator("#notifications")).to_contain_text("mine")
    # A key's session: its own project alone, another's notification typed in the URL is 404
    page.context.clear_cookies()
    sign_in(page, herald_url, other["apiKey"])
    assert page.locator("#project-switch option").count() == 1
    answer = page.goto(f"{herald_url}/console/{project['projectId']}/notifications/mine")
    assert answer.status == 404
    assert page.errors == []


def test_create_preview_error_save_reload_and_test_send(
    herald, herald_url, page, client, project, screenshots
):
    user = f"u-{secrets.token_hex(4)}"
    upsert_users(client, {"id": user, "email": f"{user}@example.com", "firstName": "Ann"})
    sign_in(page, herald_url, project["apiKey"])
    page.click("#new-notification")
    page.wait_for_selector("body[data-loaded=true]")
    type_a_welcome_and_watch_the_preview(page, user)
    show_a_template_error_on_its_line(page)
    # Saved, reloaded, still there
    page.click("#save")
    page.wait_for_url("**/notifications/welcome?saved=1")
    page.wait_for_selector("body[data-loaded=true]")
    page.reload()
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#pv-subject")).to_have_text("Hello ")
    assert "{{ broken }}" in page.locator("#tpl-html").inner_text()
    if herald.mode == "embedded":
        page.fill("#preview-user", user)
        expect(page.locator("#pv-subject")).to_have_text("Hello Ann")
        pictures(page, screenshots / "console-editor", full_page=True)
    # A test send lands in the provider
    page.fill("#send-user", user)
    page.click("#send")
    expect(page.locator("#send-result")).to_contain_text("sent")
    assert any(
        f"{user}@example.com" in email["to"] and email["subject"] == "Hello Ann"
        for email in emails_sent(herald)
    )
    if herald.mode == "embedded":
        page.click("text=← Notifications")
        page.wait_for_selector("body[data-loaded=true]")
        expect(page.locator("#notifications")).to_contain_text("welcome")
        pictures(page, screenshots / "console-list")
    assert page.errors == []


def test_keyboard_alone_creates_edits_and_saves(herald, herald_url, page, project, screenshots):
    sign_in(page, herald_url, project["apiKey"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")  # the skip link: focus to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "new-notification"
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-loaded=true]")
    focus_on(page, "f-id")
    page.keyboard.type("keyed")
    page.keyboard.press("Tab")
    page.keyboard.type("Keyed")
    focus_on(page, "tpl-subject")
    page.keyboard.type("By keys {{ who }}")
    page.keyboard.press("Tab")  # out of the one-line subject, into the HTML
    assert page.evaluate("document.activeElement.id") == "tpl-html"
    page.keyboard.type("<p>{{ who }}</p>")
    page.keyboard.press("Control+s")
    page.wait_for_url("**/notifications/keyed?saved=1")
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#save-status")).to_have_text("Saved")
    assert page.errors == []


def focus_on(page, element_id: str, limit: int = 60) -> None:
    """Tab until the element has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def show_a_template_error_on_its_line(page) -> None:
    """Break the HTML on its line 2: the sentence beside the field, the line marked; mend it."""
    page.click("#tpl-html")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("{{ broken }")
    expect(page.locator("#preview-error")).to_contain_text("en.email.html, line 2")
    expect(page.locator("[data-field=tpl-html]")).to_contain_text("line 2")
    assert page.locator(".cm-error-line").count() == 1
    page.keyboard.type("}")
    expect(page.locator("#pv-subject")).to_have_text("Hello Ann")
    assert page.locator(".cm-error-line").count() == 0


def pictures(page, stem, **options) -> None:
    """The page in the light and the dark theme: stem.png and stem-dark.png."""
    page.screenshot(path=f"{stem}.png", **options)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=f"{stem}-dark.png", **options)
    page.emulate_media(color_scheme="light")


def type_a_welcome_and_watch_the_preview(page, user: str) -> None:
    """Type a new notification's subject and HTML: the preview follows, with the user's profile
    as the context and the undefined names listed."""
    page.fill("#f-id", "welcome")
    page.fill("#f-name", "Welcome")
    page.click("#tpl-subject")
    page.keyboard.type("Hello {{ firstName }}")
    page.click("#tpl-html")
    page.keyboard.type("<p>Welcome <b>{{ firstName }}</b>, order {{ order.total }}</p>")
    page.fill("#preview-user", user)
    expect(page.locator("#pv-subject")).to_have_text("Hello Ann")
    frame = page.frame_locator("iframe.mail-frame")
    expect(frame.locator("b")).to_have_text("Ann")
    expect(page.locator("#pv-undefined")).to_contain_text("order")
