"""The bell's browser notifications (SPEC §10) in Debian's headless Chromium, both modes: the
settings switch subscribes through the service worker at /widget-sw.js and registers the
browser with Herald, and forgets it again; the worker shows a push as a notification.

Headless Chromium can't reach a push service from here (a Playwright context refuses push,
a persistent profile's subscribe() waits for Google's servers forever), so the page's
PushManager.subscribe and getSubscription are a stand-in (tests/support/push_browser.py)
answering a loopback endpoint with a real P-256 key pair made in the page. Everything else is
the browser's own: the notifications permission, the worker's registration, the calls to
Herald."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from shared.contacts.devices import shortened
from shared.feed.reading import user_hmac
from shared.push.vapid import vapid_public_key
from tests.support.browser import NOTIFICATION, served
from tests.support.calls import Client, answer, upsert_notification, upsert_users
from tests.support.data import token
from tests.support.herald import new_project, running_herald
from tests.support.push_browser import PUSH_SERVICE_STAND_IN, HostPages, vapid_private_key

VAPID_KEY = vapid_private_key()
SWITCH = "Browser notifications"


@pytest.fixture(scope="module", params=["embedded", "production"])
def push_herald(request, tmp_path_factory):
    """A Herald with a VAPID key that takes loopback push endpoints."""
    with running_herald(
        request, tmp_path_factory, vapid_private_key=VAPID_KEY, webhooks_allow_private=True
    ) as instance:
        yield instance


@pytest.fixture(scope="module")
def host(push_herald):
    """The Herald served on a loopback port with the test's pages beside it: (pages, URL)."""
    pages = HostPages(push_herald.app)
    with served(pages) as url:
        yield pages, url


@pytest.fixture
def user(push_herald, host) -> dict:
    """A user of a new project, with the bell's options to mount it at Herald's origin."""
    project = new_project(push_herald)
    client = Client(push_herald.app, project["apiKey"])
    upsert_notification(client, NOTIFICATION)
    user_id = f"u-{token()}"
    [result] = upsert_users(client, {"id": user_id})
    assert result["ok"], result
    options = {
        "projectId": project["projectId"],
        "userId": user_id,
        "userHmac": user_hmac(project["widgetSecret"], user_id),
        "bellSelector": "#bell",
    }
    return {"id": user_id, "client": client, "options": options}


def push_page(page, host, user, *, granted: bool = True):
    """Open a page of Herald's origin with the user's bell, the push service stood in for."""
    pages, url = host
    if granted:
        page.context.grant_permissions(["notifications"], origin=url)
    page.add_init_script(PUSH_SERVICE_STAND_IN)
    page.goto(url + pages.add(user["options"]))
    return url


def settings_by_keyboard(page) -> None:
    """Open the bell and its settings tab, and move to the first control, with keys alone."""
    page.locator(".hd-bell").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Settings")).to_be_focused()
    expect(page.get_by_role("switch", name=SWITCH)).to_be_visible()  # once users.get answered
    page.keyboard.press("Tab")  # the settings panel
    page.keyboard.press("Tab")
    expect(page.get_by_role("switch", name=SWITCH)).to_be_focused()


def devices(user) -> list[dict]:
    return answer(user["client"].get("/users.get", id=user["id"]))["user"]["devices"]


def wait_for(probe, seconds: float = 5.0):
    """The probe's first truthy answer within the time, else its last one."""
    deadline = time.monotonic() + seconds
    while not (value := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_the_switch_registers_this_browser_and_off_removes_it(page, host, user, push_herald):
    url = push_page(page, host, user)
    settings_by_keyboard(page)
    switch = page.get_by_role("switch", name=SWITCH)
    expect(switch).to_be_focused()
    expect(switch).to_have_attribute("aria-checked", "false")
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("data-saved", "true")
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.locator(".hd-push-note")).to_have_text("Browser notifications are on.")

    # Subscribed with Herald's VAPID key, through the worker at /widget-sw.js of this origin
    assert page.evaluate("pushStandIn.serverKeys") == [vapid_public_key(push_herald.settings)]
    workers = page.evaluate(
        "navigator.serviceWorker.getRegistrations().then(rs => rs.map(r => r.active.scriptURL))"
    )
    assert workers == [f"{url}/widget-sw.js"]
    endpoint = page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.pushManager"
        ".getSubscription()).then(s => s.endpoint)"
    )
    [device] = wait_for(lambda: devices(user))
    assert device["kind"] == "webpush"
    assert device["endpoint"] == shortened(endpoint)

    # A new load finds the subscription: the switch is on
    page.reload()
    settings_by_keyboard(page)
    expect(switch).to_have_attribute("aria-checked", "true")
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator(".hd-push-note")).to_have_text("Browser notifications are off.")
    assert page.evaluate("pushStandIn.unsubscribed") == [endpoint]
    assert wait_for(lambda: not devices(user))
    assert page.errors == []


def test_a_denied_permission_keeps_the_switch_off_and_says_why(page, host, user):
    push_page(page, host, user, granted=False)
    page.context.clear_permissions()
    settings_by_keyboard(page)
    switch = page.get_by_role("switch", name=SWITCH)
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("data-saved", "true")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.locator(".hd-push-note")).to_contain_text("blocks notifications")
    assert devices(user) == []


def test_herald_refusing_the_browser_shows_its_message(page, host, user):
    # Given a user with the most devices Herald keeps
    tokens = [{"kind": "fcm", "token": f"{'t' * 32}{n:03d}"} for n in range(20)]
    upsert_users(user["client"], {"id": user["id"], "pushTokens": tokens})
    push_page(page, host, user)
    settings_by_keyboard(page)
    page.keyboard.press("Space")
    switch = page.get_by_role("switch", name=SWITCH)
    expect(switch).to_have_attribute("data-saved", "true")
    expect(switch).to_have_attribute("aria-checked", "false")
    note = page.locator(".hd-push-note")
    expect(note).to_contain_text("Couldn't turn browser notifications on.")
    expect(note).to_contain_text("at most 20 push devices")
    assert len(devices(user)) == 20


def test_the_demo_offers_the_switch_screenshots(page, host, push_herald, screenshots):
    """The settings tab of the demo's bell with the switch on and focused by the keyboard,
    light and dark (docs/screenshots when HERALD_SCREENSHOTS names it)."""
    if push_herald.mode != "embedded":
        pytest.skip("the demo runs in the embedded mode only")
    _, url = host
    page.set_viewport_size({"width": 1100, "height": 720})
    page.context.grant_permissions(["notifications"], origin=url)
    page.add_init_script(PUSH_SERVICE_STAND_IN)
    page.goto(f"{url}/demo")
    settings_by_keyboard(page)
    page.keyboard.press("Space")
    switch = page.get_by_role("switch", name=SWITCH)
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_be_focused()
    page.wait_for_timeout(200)  # the switch's knob slides
    page.screenshot(path=screenshots / "bell-push-light.png")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(200)
    page.screenshot(path=screenshots / "bell-push-dark.png")
    assert page.errors == []


def test_without_a_vapid_key_there_is_no_switch(page, herald, customer):
    if vapid_public_key(herald.services.settings):
        pytest.skip("the embedded mode makes itself a VAPID key")
    customer.open_app(page)
    page.locator(".hd-bell").click()
    page.get_by_role("tab", name="Settings").click()
    expect(page.get_by_role("switch", name="Email — Comments")).to_be_visible()
    expect(page.get_by_role("switch", name=SWITCH)).to_have_count(0)


def test_a_browser_without_web_push_has_no_switch(page, host, user):
    page.add_init_script("delete window.PushManager")
    push_page(page, host, user)
    page.locator(".hd-bell").click()
    page.get_by_role("tab", name="Settings").click()
    expect(page.get_by_role("switch", name="Email — Comments")).to_be_visible()
    expect(page.get_by_role("switch", name=SWITCH)).to_have_count(0)
    assert page.errors == []


def test_the_service_worker_is_served_for_the_whole_site_uncached(push_herald):
    response = push_herald.app.test_client().get("/widget-sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert 'addEventListener("push"' in response.get_data(as_text=True)
    # its notifications' icons may load from anywhere over https; it fetches nothing else
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https:" in policy and "default-src 'none'" in policy


def test_the_worker_shows_a_push_as_a_notification(page, host):
    # Given the worker registered at a page of Herald's origin
    pages, url = host
    page.context.grant_permissions(["notifications"], origin=url)
    page.goto(url + pages.add())
    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.evaluate(
        "navigator.serviceWorker.register('/widget-sw.js')"
        ".then(() => navigator.serviceWorker.ready)"
    )
    ours = wait_for(lambda: [r for r in registrations if r["scopeURL"] == url + "/"])
    registration = ours[-1]
    # When a push arrives (from DevTools, as from a push service)
    push = {
        "title": "Order 7 shipped",
        "body": "It arrives Monday.",
        "url": "/orders/7",
        "data": {"order": 7},
        "messageId": "m-1",
    }
    # Then the worker shows it, tagged with the message, its URL in its data
    notifications = deliver(page, cdp, registration["registrationId"], url, push)
    assert notifications == [
        {
            "title": "Order 7 shipped",
            "body": "It arrives Monday.",
            "tag": "m-1",
            "data": {"order": 7, "url": f"{url}/orders/7", "messageId": "m-1"},
        }
    ]


SHOWN = (
    "navigator.serviceWorker.ready.then(r => r.getNotifications())"
    ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))"
)


def deliver(page, cdp, registration_id: str, origin: str, push: dict) -> list[dict]:
    """Deliver the push through DevTools; the notifications the worker shows then. Now and
    then DevTools drops a push sent just after the worker activated (seemingly before the
    registration is stored; its answer is the same), so it is sent again, three times at most:
    one notification still, as a notification replaces the one of its tag."""
    for _ in range(3):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registration_id, "data": json.dumps(push)},
        )
        notifications = wait_for(lambda: page.evaluate(SHOWN), seconds=2)
        if notifications:
            return notifications
    return notifications
