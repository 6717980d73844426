"""One-click unsubscribe (RFC 8058, SPEC §8), end to end in both modes: a Herald whose e-mail
goes to a real SMTP server (aiosmtpd, STARTTLS and AUTH); the link its e-mail carries mutes
that notification's e-mail for that user on a POST, and only on a POST."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from shared.contacts import Subscription, make_token, unsubscribe_url
from shared.infra.config import ConfigError, Settings
from shared.infra.db import autocommit
from shared.infra.models import projects
from shared.infra.secrets import secret_box
from shared.providers.urls import parse_chain, parse_provider_url
from shared.tenancy.projects import authenticate
from tests.support.browser import served
from tests.support.calls import Client, answer, send, until_final, upsert_notification
from tests.support.data import token
from tests.support.herald import new_project, running_herald
from tests.support.smtp_servers import (
    PASSWORD,
    USER,
    make_certificate,
    real_server,
    server_context,
)
from worker.providers import build_provider
from worker.providers.content import Email


def notice(notification_id: str, allow_mute: bool = True) -> dict:
    return {
        "id": notification_id,
        "name": f"Weekly {notification_id}",
        "withEmail": True,
        "allowMuteEmail": allow_mute,
        "templates": {"en": {"email": {"subject": "Hi {{ n }}", "text": "Hello {{ n }}"}}},
    }


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    """A real SMTP server, and the client side trusting its certificate for the module."""
    cert, key = make_certificate(tmp_path_factory.mktemp("cert"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(cert))
        controller, received = real_server(server_context(cert, key))
        yield controller, received
        controller.stop()


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory, smtp):
    """A Herald of each mode whose e-mail chain is the SMTP server alone; the production one
    stores its widget secrets sealed (HERALD_SECRET_KEY), which the links are signed with."""
    controller, _ = smtp
    chain = parse_chain("email", f"smtp://{USER}:{PASSWORD}@127.0.0.1:{controller.port}")
    sealed = {"secret_keys": (Fernet.generate_key().decode(),)}
    extra = sealed if request.param == "production" else {}
    with running_herald(request, tmp_path_factory, email_providers=chain, **extra) as instance:
        yield instance


@pytest.fixture
def client(herald):
    client = Client(herald.app, new_project(herald)["apiKey"])
    for notification in (notice("digest"), notice("security"), notice("receipt", False)):
        upsert_notification(client, notification)
    return client


def deliver(client: Client, received, notification_id: str, user_id: str) -> dict:
    """Send one e-mail to the user and wait for it; its message, with the MIME the server got
    of it (or None)."""
    mark = token()
    item = {"notificationId": notification_id, "userId": user_id, "data": {"n": mark}}
    [result] = send(client, item | {"userEmail": f"{user_id}@example.com"})
    message = until_final(client, result["id"])
    got = [mail for mail in received.messages if mail["Subject"] == f"Hi {mark}"]
    message["mime"] = got[0] if got else None
    return message


def link_of(mail) -> str:
    header = mail["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


def path_of(herald, link: str) -> str:
    assert link.startswith(herald.settings.public_url + "/unsubscribe/"), link
    return link.removeprefix(herald.settings.public_url)


def one_click(herald, path: str):
    """The POST a mail client makes (RFC 8058)."""
    return herald.app.test_client().post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )


def test_the_email_carries_the_headers_and_a_post_mutes_that_notification(herald, client, smtp):
    _, received = smtp
    user = f"u-{token()}"
    first = deliver(client, received, "digest", user)
    assert first["channels"]["email"]["status"] == "sent", first
    mail = first["mime"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = path_of(herald, link_of(mail))

    response = one_click(herald, path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert "Weekly digest" in response.get_data(as_text=True)

    again = deliver(client, received, "digest", user)
    assert again["channels"]["email"]["status"] == "muted" and again["mime"] is None
    other = deliver(client, received, "security", user)
    assert other["channels"]["email"]["status"] == "sent"
    assert link_of(other["mime"]) != link_of(mail)
    stored = answer(client.get("/users.get", id=user))["user"]["preferences"]
    assert stored["digest"]["muteEmail"] is True and "security" not in stored
    # an empty POST (the page's own button sends the field; some clients send nothing) too
    assert herald.app.test_client().post(path).status_code == 200


def test_a_get_shows_the_button_and_changes_nothing(herald, client, smtp):
    _, received = smtp
    user = f"u-{token()}"
    path = path_of(herald, link_of(deliver(client, received, "digest", user)["mime"]))
    for _ in range(2):
        response = herald.app.test_client().get(path)
        assert response.status_code == 200 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert '<form method="post">' in page and 'type="submit"' in page
        assert "<script" not in page
        assert "form-action 'self'" in response.headers["Content-Security-Policy"]
        assert "script-src" not in response.headers["Content-Security-Policy"]
    assert deliver(client, received, "digest", user)["channels"]["email"]["status"] == "sent"
    assert one_click(herald, path).status_code == 200
    shown = herald.app.test_client().get(path).get_data(as_text=True)
    assert "already unsubscribed" in shown and "<form" not in shown


def test_a_token_with_one_byte_changed_is_a_404(herald, client, smtp):
    _, received = smtp
    user = f"u-{token()}"
    path = path_of(herald, link_of(deliver(client, received, "digest", user)["mime"]))
    prefix, signed = path.rsplit("/", 1)
    web = herald.app.test_client()
    for place, character in enumerate(signed):
        changed = signed[:place] + ("B" if character == "A" else "A") + signed[place + 1 :]
        response = web.post(f"{prefix}/{changed}", data="List-Unsubscribe=One-Click")
        assert response.status_code == 404, place
        assert "unsubscribe/notFound" in response.get_data(as_text=True)
        assert response.mimetype == "text/html"
    assert web.get(f"{prefix}/{signed[:-1]}").status_code == 404
    assert web.get(f"{prefix}/%C3%A9{signed}").status_code == 404
    assert deliver(client, received, "digest", user)["channels"]["email"]["status"] == "sent"


def test_a_link_ends_when_its_notification_stops_letting_email_be_muted(herald, client, smtp):
    _, received = smtp
    user = f"u-{token()}"
    path = path_of(herald, link_of(deliver(client, received, "digest", user)["mime"]))
    upsert_notification(client, notice("digest", allow_mute=False))
    web = herald.app.test_client()
    assert web.get(path).status_code == 404
    assert one_click(herald, path).status_code == 404
    assert answer(client.get("/users.get", id=user))["user"]["preferences"] == {}


def test_a_notification_that_does_not_let_email_be_muted_has_no_headers(client, smtp):
    _, received = smtp
    mail = deliver(client, received, "receipt", f"u-{token()}")["mime"]
    assert mail is not None
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None


def test_another_projects_token_never_mutes_in_this_project(herald, client, smtp):
    _, received = smtp
    other = Client(herald.app, new_project(herald, "other")["apiKey"])
    upsert_notification(other, notice("digest"))
    user = f"u-{token()}"
    theirs = path_of(herald, link_of(deliver(other, received, "digest", user)["mime"]))
    assert deliver(client, received, "digest", user)["channels"]["email"]["status"] == "sent"
    assert one_click(herald, theirs).status_code == 200  # mutes in their project only
    assert deliver(client, received, "digest", user)["channels"]["email"]["status"] == "sent"
    assert deliver(other, received, "digest", user)["channels"]["email"]["status"] == "muted"
    # a token naming this project, signed with the other project's key
    with autocommit(herald.engine) as connection:
        rows = {row.id: row.widget_secret for row in connection.execute(projects.select())}
    ours = Subscription(_project_of(herald, client), user, "digest")
    box = secret_box(herald.settings.secret_keys)
    forged = make_token(box, rows[_project_of(herald, other)], ours)
    assert one_click(herald, f"/unsubscribe/{forged}").status_code == 404
    assert deliver(client, received, "digest", user)["channels"]["email"]["status"] == "sent"


def _project_of(herald, client: Client) -> str:
    with autocommit(herald.engine) as connection:
        return authenticate(connection, client.key).id


@pytest.mark.unit
def test_the_outbox_and_ses_write_the_headers_into_the_mime(tmp_path):
    link = unsubscribe_url("https://herald.example.com", "e30.c2ln")
    mail = Email("m-1", "ada@example.com", "team@example.com", None, None, "Hi", None, "Hi", link)
    settings = Settings(outbox_dir=tmp_path)
    for url in ("outbox://", "ses://"):
        built = build_provider(settings, parse_provider_url("email", url)).build(mail)
        data = built[1] if url == "outbox://" else built["Content"]["Raw"]["Data"]
        assert f"\nList-Unsubscribe: <{link}>\n".encode() in data, url
        assert b"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n" in data, url


@pytest.mark.unit
@pytest.mark.parametrize(
    ("env", "host", "port", "public"),
    [
        ({}, "127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ({}, "0.0.0.0", 9000, "http://localhost:9000"),
        ({}, "::1", 8000, "http://[::1]:8000"),
        ({"HERALD_PUBLIC_URL": "https://herald.example.com/"}, "0.0.0.0", 8000, None),
    ],
)
def test_links_point_at_herald_public_url_else_where_herald_serve_listens(env, host, port, public):
    settings = Settings.from_env(env)
    assert settings.public_url in ("http://127.0.0.1:8000", "https://herald.example.com")
    assert settings.serving(host, port).public_url == (public or "https://herald.example.com")


@pytest.mark.unit
@pytest.mark.parametrize("raw", ["herald.example.com", "ftp://herald.example.com", "https://"])
def test_a_public_url_that_is_not_an_http_address_names_the_variable(raw):
    with pytest.raises(ConfigError, match="HERALD_PUBLIC_URL"):
        Settings.from_env({"HERALD_PUBLIC_URL": raw})


def test_the_page_works_in_chromium_light_and_dark(herald, client, smtp, page, screenshots):
    _, received = smtp
    user = f"u-{token()}"
    path = path_of(herald, link_of(deliver(client, received, "digest", user)["mime"]))
    refusals: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and refusals.append(m.text))
    with served(herald.app) as url:
        page.goto(url + path)
        button = page.get_by_role("button", name="Unsubscribe")
        expect(button).to_be_focused()  # the one thing to do, ready for Enter
        light = button.evaluate("b => getComputedStyle(b).backgroundColor")
        page.screenshot(path=screenshots / f"unsubscribe-{herald.mode}-light.png")
        page.emulate_media(color_scheme="dark")
        dark = button.evaluate("b => getComputedStyle(b).backgroundColor")
        outline = button.evaluate("b => getComputedStyle(b).outlineStyle")
        page.screenshot(path=screenshots / f"unsubscribe-{herald.mode}-dark.png")
        assert light != dark and outline == "solid"  # the stylesheet loaded; focus is visible
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading")).to_have_text("You are unsubscribed")
    assert refusals == [] and page.errors == []
    assert deliver(client, received, "digest", user)["channels"]["email"]["status"] == "muted"
