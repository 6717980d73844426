"""The bell (`/widget.js`) in Debian's headless Chromium, embedded in a page of another origin:
badge, live updates, read state, settings, safety of message HTML, keyboard; and the demo."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.support.calls import answer

XSS = (
    '<img src=x onerror="window.pwned=1">'
    "<script>window.pwned=2</script>"
    '<svg onload="window.pwned=3"></svg>'
    '<a href="javascript:window.pwned=4" onclick="window.pwned=5">link</a>'
    '<iframe srcdoc="&lt;script&gt;parent.pwned=6&lt;/script&gt;"></iframe>'
    '<b onmouseover="window.pwned=7">bold</b>'
)


def test_widget_js_is_served_to_pages_of_any_origin(herald):
    response = herald.app.test_client().get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Herald" in response.get_data(as_text=True)


def open_panel(page) -> None:
    page.locator(".hd-bell").click()
    expect(page.locator(".hd-panel")).to_be_visible()


def test_badge_counts_unread_and_marks_the_favicon(page, customer):
    customer.send(3)
    customer.open_app(page)
    expect(page.locator(".hd-badge")).to_have_text("3")
    expect(page.locator(".hd-bell")).to_have_attribute("aria-label", "Notifications, 3 unread")
    icon = page.locator('link[rel~="icon"]')
    expect(icon).to_have_attribute("data-herald-unread", "3")
    assert icon.get_attribute("href").startswith("data:image/png")
    assert page.errors == []


def test_a_new_message_appears_without_reload(page, customer):
    customer.send(1)
    customer.open_app(page)
    open_panel(page)
    expect(page.locator(".hd-msg")).to_have_count(1)
    customer.send(1)
    expect(page.locator(".hd-msg")).to_have_count(2)
    expect(page.locator(".hd-badge")).to_have_text("2")
    expect(page.locator(".hd-msg").first).to_contain_text("Ann commented: note 0")


def test_clicking_a_message_marks_it_read_and_the_badge_drops(page, customer, client):
    first, second = customer.send(2)
    customer.open_app(page)
    open_panel(page)
    page.locator(f'.hd-msg[data-id="{second["id"]}"]').click()
    expect(page.locator(".hd-badge")).to_have_text("1")
    assert page.evaluate("window.clicked") == second["id"]
    expect(page.locator(f'.hd-msg[data-id="{second["id"]}"]')).not_to_have_attribute(
        "data-unread", ""
    )
    assert wait_for(lambda: read_at(client, second["id"])) is not None
    assert read_at(client, first["id"]) is None


def test_mark_all_read_clears_the_badge_and_the_feed(page, customer, client):
    sent = customer.send(3)
    customer.open_app(page)
    open_panel(page)
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator(".hd-badge")).to_be_hidden()
    expect(page.locator(".hd-msg[data-unread]")).to_have_count(0)
    assert all(wait_for(lambda m=m: read_at(client, m["id"])) for m in sent)
    icon = page.locator('link[rel~="icon"]')
    expect(icon).not_to_have_attribute("data-herald-unread", "3")


def test_settings_toggle_mutes_email_for_the_next_send(page, customer):
    customer.open_app(page)
    open_panel(page)
    page.get_by_role("tab", name="Settings").click()
    email = page.get_by_role("switch", name="Email — Comments")
    expect(email).to_have_attribute("aria-checked", "true")
    email.click()
    expect(email).to_have_attribute("aria-checked", "false")
    expect(email).to_have_attribute("data-saved", "true")
    expect(page.locator(".hd-note")).to_have_text("Saved")
    result = customer.send(1)[0]
    assert result["channels"]["email"]["status"] == "muted", result
    assert result["channels"]["widget"]["status"] == "sent", result


def test_script_in_message_data_and_raw_override_content_runs_nothing(page, customer):
    customer.send(1, data={"author": XSS, "text": XSS})
    customer.send(1, widgetSettingsOverride={"content": "raw: " + XSS})
    customer.open_app(page)
    open_panel(page)
    expect(page.locator(".hd-msg")).to_have_count(2)
    raw = page.locator(".hd-msg .hd-content").first
    expect(raw).to_contain_text("raw:")
    expect(raw.locator("b")).to_have_text("bold")
    assert raw.locator("script, svg, iframe, [onerror], [onload], [onclick]").count() == 0
    assert raw.locator("a").get_attribute("href") is None
    raw.locator("a").click()
    raw.locator("b").hover()
    page.wait_for_timeout(500)  # give an image error or a load handler the time to fire
    assert page.evaluate("window.pwned") is None
    escaped = page.locator(".hd-msg .hd-content").nth(1)
    expect(escaped).to_contain_text('<img src=x onerror="window.pwned=1">')
    assert page.errors == []


def test_escape_closes_the_panel_and_focus_returns_to_the_bell(page, customer):
    customer.send(1)
    customer.open_app(page)
    bell = page.locator(".hd-bell")
    bell.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".hd-panel")).to_be_visible()
    expect(bell).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog", name="Notifications")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Settings")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".hd-panel")).to_be_hidden()
    expect(bell).to_have_attribute("aria-expanded", "false")
    expect(bell).to_be_focused()


def test_over_99_unread_shows_99_plus_and_scrolling_loads_more(page, customer):
    customer.send(101)
    assert wait_for(lambda: customer.feed()["total"] == 101, seconds=20)
    customer.open_app(page, pageSize=20)
    expect(page.locator(".hd-badge")).to_have_text("99+")
    open_panel(page)
    expect(page.locator(".hd-msg")).to_have_count(20)
    page.locator(".hd-msg").last.scroll_into_view_if_needed()
    expect(page.locator(".hd-msg")).to_have_count(40)


def test_the_panel_opens_on_the_newest_message_whole(page, customer):
    # Given a list longer than the panel, scrolled down, and the panel closed
    customer.send(12)
    customer.open_app(page)
    open_panel(page)
    inbox = page.locator(".hd-body").first
    expect(page.locator(".hd-msg")).to_have_count(12)
    inbox.evaluate("box => { box.scrollTop = 150; }")
    page.keyboard.press("Escape")
    expect(page.locator(".hd-panel")).to_be_hidden()
    # When it opens again
    open_panel(page)
    # Then the list is at its top, the newest message wholly below the tabs
    assert inbox.evaluate("box => box.scrollTop") == 0
    newest = page.locator(".hd-msg").first
    expect(newest).to_contain_text("note 11")
    assert newest.bounding_box()["y"] >= inbox.bounding_box()["y"] - 1  # sub-pixel rounding
    expect(page.get_by_role("tab", name="Inbox")).to_be_focused()


def test_text_overrides_translate_the_bell(page, customer):
    customer.send(1)
    customer.open_app(
        page,
        text={"locale": "de", "title": "Benachrichtigungen", "markAllRead": "Alle gelesen"},
    )
    open_panel(page)
    expect(page.get_by_role("heading", name="Benachrichtigungen")).to_be_visible()
    expect(page.get_by_role("button", name="Alle gelesen")).to_be_visible()
    expect(page.locator(".hd-time").first).to_have_text("jetzt")


def test_a_refused_signature_shows_the_api_message(page, customer):
    customer.open_app(page, userHmac="0" * 64)
    open_panel(page)
    state = page.locator(".hd-state")
    expect(state).to_contain_text("Couldn't load your notifications.")
    expect(state).to_contain_text("userHmac")
    expect(page.locator(".hd-badge")).to_be_hidden()


def test_polling_takes_over_when_the_stream_fails(page, customer):
    page.route("**/front/messages.stream**", lambda route: route.fulfill(status=503, body="{}"))
    customer.open_app(page, pollInterval=500)
    open_panel(page)
    customer.send(1)
    expect(page.locator(".hd-msg")).to_have_count(1)
    expect(page.locator(".hd-badge")).to_have_text("1")


def test_demo_sends_a_notification_and_a_stacked_one(page, herald, herald_url):
    if herald.mode != "embedded":
        assert herald.app.test_client().get("/demo").status_code == 404
        return
    page.goto(f"{herald_url}/demo")
    page.get_by_role("button", name="Send a comment").click()
    expect(page.locator("#status")).to_have_text("Sent (sent).")
    open_panel(page)
    expect(page.locator(".hd-msg").first).to_contain_text("commented on")
    for _ in range(2):
        page.get_by_role("button", name="Send a like (stacks)").click()
        expect(page.locator("#status")).to_contain_text("Sent (")
    expect(page.locator(".hd-msg").first).to_contain_text("and 1 other liked")
    assert page.errors == []


def test_screenshots_of_the_demo(page, herald, herald_url, screenshots):
    """Light and dark, the panel open and the settings tab, for the README (docs/screenshots
    when HERALD_SCREENSHOTS names it)."""
    if herald.mode != "embedded":
        pytest.skip("the demo runs in the embedded mode only")
    page.set_viewport_size({"width": 1100, "height": 720})
    page.goto(f"{herald_url}/demo")
    for stacked in (False, True, True, False, True, False):
        page.evaluate(
            "(s) => fetch('/demo/send', {method: 'POST', body: JSON.stringify({stacked: s})})",
            stacked,
        )
    expect(page.locator(".hd-badge")).not_to_have_text("", timeout=5000)
    page.wait_for_timeout(800)
    open_panel(page)
    # A click event, not a pointer click: Playwright scrolls its target into view again when
    # the list re-renders under it, which is not what a reader sees on opening.
    page.locator(".hd-msg").nth(2).dispatch_event("click")
    expect(page.locator(".hd-msg").nth(2)).not_to_have_attribute("data-unread", "")
    page.mouse.move(0, 700)
    assert page.locator(".hd-body").first.evaluate("box => box.scrollTop") == 0
    assert panel_background(page) == LIGHT
    page.screenshot(path=screenshots / "panel-light.png")
    page.emulate_media(color_scheme="dark")
    assert panel_background(page) == DARK
    page.wait_for_timeout(200)
    page.screenshot(path=screenshots / "panel-dark.png")
    page.emulate_media(color_scheme="light")
    page.get_by_role("tab", name="Settings").click()
    page.wait_for_timeout(200)
    page.screenshot(path=screenshots / "settings-light.png")
    assert page.errors == []


def test_theme_option_forces_dark_on_a_light_page(page, customer):
    customer.open_app(page, theme="dark")
    open_panel(page)
    assert panel_background(page) == DARK
    page.emulate_media(color_scheme="dark")
    customer.open_app(page, theme="light")
    open_panel(page)
    assert panel_background(page) == LIGHT


LIGHT, DARK = "rgb(255, 255, 255)", "rgb(26, 29, 36)"


def panel_background(page) -> str:
    return page.locator(".hd-panel").evaluate("(panel) => getComputedStyle(panel).backgroundColor")


def read_at(client, message_id: str):
    return answer(client.get("/messages.get", id=message_id))["message"]["readAt"]


def wait_for(probe, seconds: float = 5.0):
    """The probe's first truthy answer within the time, else its last one."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
