"""The console's Users page in Chromium, both modes: find a user by id and by e-mail, see the
profile, preferences, devices and feed, remove a device and a suppression; another project's
user answers 404; the README's pictures."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from shared.contacts.suppressions import suppress
from shared.contacts.users import find_user
from shared.feed.reading import mark_read
from shared.infra.db import autocommit, transaction
from shared.infra.errors import NotFound
from tests.support.calls import answer, send, until_final, upsert_notification, upsert_users
from tests.support.herald import new_project, running_herald
from tests.support.push import APNS, FCM
from tests.test_console_page import OPS_TOKEN, pictures, sign_in

NEWS = {
    "id": "news",
    "name": "News",
    "withWidget": True,
    "templates": {"en": {"widget": {"content": "Hello {{ firstName }}, news {{ n }}"}}},
}


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the console on."""
    with running_herald(request, tmp_path_factory, ops_token=OPS_TOKEN, send_wait=2.0) as instance:
        yield instance


def a_user_with_everything(herald, client, project) -> str:
    """A user with a profile, a muted preference, two devices, a suppressed address and two
    feed messages, one of them read."""
    user = f"u-{secrets.token_hex(4)}"
    upsert_notification(client, NEWS)
    [made] = upsert_users(client, {
        "id": user, "email": f"{user}@Example.com", "firstName": "Ann", "language": "en",
        "preferences": {"news": {"muteEmail": True}},
        "pushTokens": [{"kind": "fcm", "token": FCM}, {"kind": "apns", "token": APNS}],
    })  # fmt: skip
    assert made["ok"], made
    with transaction(herald.engine) as connection:
        suppress(connection, project["projectId"], f"{user}@example.com", "bounce")
    first, second = send(
        client, *({"notificationId": "news", "userId": user, "data": {"n": n}} for n in (1, 2))
    )
    for sent in (first, second):
        until_final(client, sent["id"])
    with transaction(herald.engine) as connection:
        mark_read(connection, project["projectId"], user, first["id"])
    return user


def test_find_user_takes_an_id_or_an_email_in_any_case(herald, client, project):
    user = f"u-{secrets.token_hex(4)}"
    upsert_users(client, {"id": user, "email": f"{user}@example.com"})
    with autocommit(herald.engine) as connection:
        assert find_user(connection, project["projectId"], user).id == user
        assert (
            find_user(connection, project["projectId"], f" {user.upper()}@EXAMPLE.com").id == user
        )
        with pytest.raises(NotFound):
            find_user(connection, project["projectId"], "nobody@example.com")
        with pytest.raises(NotFound):  # another project's user is not found
            find_user(connection, new_project(herald, "else")["projectId"], user)


def test_find_see_and_remove_a_device_and_a_suppression(
    herald, herald_url, page, client, project, screenshots
):
    user = a_user_with_everything(herald, client, project)
    sign_in(page, herald_url, project["apiKey"])
    page.click("nav >> text=Users")
    page.wait_for_url("**/users")
    page.wait_for_selector("body[data-loaded=true]")
    assert page.errors == []
    # Found by e-mail (another case), then by id
    page.fill("#user-q", f"{user.upper()}@example.com")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/users/{user}")
    page.wait_for_selector("body[data-loaded=true]")
    page.fill("#user-q", "nobody-at-all")
    page.click("#user-find")
    expect(page.locator("#find-error")).to_contain_text("nobody-at-all")
    page.fill("#user-q", user)
    page.click("#user-find")
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#profile")).to_contain_text("Ann")
    expect(page.locator("#preferences-table")).to_contain_text("muted")
    expect(page.locator("#devices-table tbody tr")).to_have_count(2)
    expect(page.locator("#feed-list li")).to_have_count(2)
    expect(page.locator("#feed-list li.unread")).to_have_count(1)
    expect(page.locator("#feed-list li").first).to_contain_text("Hello Ann, news 2")
    if herald.mode == "embedded":
        pictures(page, screenshots / "console-users", full_page=True)
    # The FCM device removed from the keyboard, the suppression with a click
    page.locator("#devices-table button").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#devices-table tbody tr")).to_have_count(1)
    page.click("#remove-suppression")
    expect(page.locator("#suppressions-table tbody tr")).to_have_count(0)
    shown = answer(client.get("/users.get", id=user))["user"]["devices"]
    assert [d["kind"] for d in shown] == ["apns"]
    page.reload()
    page.wait_for_selector("body[data-loaded=true]")
    expect(page.locator("#suppressions")).to_contain_text("E-mail reaches this address")
    assert page.errors == []


def test_another_projects_user_answers_404(herald, herald_url, page, client, project):
    user = f"u-{secrets.token_hex(4)}"
    upsert_users(client, {"id": user, "email": f"{user}@example.com"})
    other = new_project(herald, "zz-other")
    sign_in(page, herald_url, other["apiKey"])
    assert page.goto(f"{herald_url}/console/{other['projectId']}/users/{user}").status == 404
    assert page.goto(f"{herald_url}/console/{project['projectId']}/users/{user}").status == 404
    answered = page.request.get(
        f"{herald_url}/console/api/{other['projectId']}/users.get?id={user}"
    )
    assert (answered.status, answered.json()["error"]) == (404, "user/notFound")
    page.goto(f"{herald_url}/console/{other['projectId']}/users")
    page.wait_for_selector("body[data-loaded=true]")
    page.fill("#user-q", f"{user}@example.com")
    page.click("#user-find")
    expect(page.locator("#find-error")).to_contain_text("No user")
