"""The operator page's sign-in: a session that expires and dies with the token, Secure behind
a trusted proxy, sign-in attempts throttled per client address, JSON-only state changes; in
both modes."""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import replace

import pytest

from api import create_app
from tests.support.herald import running_herald, swapped

OPS_TOKEN = "ops-" + secrets.token_hex(8)


@pytest.fixture(scope="module", params=["embedded", "production"])
def herald(request, tmp_path_factory):
    """A Herald with the operator page on."""
    with running_herald(request, tmp_path_factory, ops_token=OPS_TOKEN) as instance:
        yield instance


@contextlib.contextmanager
def another_web_process(settings):
    """One more web process of the same Herald, with these settings."""
    app = create_app(settings, run_worker=False)
    try:
        yield app
    finally:
        app.extensions["herald"]["engine"].dispose()


def address() -> str:
    """A client address of this test alone, so that its sign-in budget is its own."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def browser(app, remote: str | None = None):
    """A test client calling from its own address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote or address()
    return client


def sign_in(client, token: str = OPS_TOKEN, scheme: str = "http", **headers):
    """Post the sign-in form, over http or https."""
    base = f"{scheme}://localhost"
    return client.post("/ops/login", data={"token": token}, headers=headers, base_url=base)


def test_a_session_expires_after_its_lifetime(herald):
    # Given a session of one second
    with swapped(herald, settings=replace(herald.settings, ops_session_seconds=1)):
        client = browser(herald.app)
        signed_in = sign_in(client)
        assert "Max-Age=1;" in signed_in.headers["Set-Cookie"]
        assert client.get("/ops/data").status_code == 200
        # When it has lived longer than that
        time.sleep(2.2)
        # Then the cookie no longer signs in, and the page says why
        expired = client.get("/ops/data")
        assert (expired.status_code, expired.get_json()["error"]) == (401, "auth/expired")
        assert "expired" in client.get("/ops").get_data(as_text=True)


def test_the_default_session_lasts_eight_hours(herald):
    cookie = sign_in(browser(herald.app)).headers["Set-Cookie"]
    assert "Max-Age=28800;" in cookie


def test_a_new_token_ends_every_session(herald):
    client = browser(herald.app)
    sign_in(client)
    assert client.get("/ops/data").status_code == 200
    with swapped(herald, settings=replace(herald.settings, ops_token="ops-rotated-token")):
        refused = client.get("/ops/data")
        assert (refused.status_code, refused.get_json()["error"]) == (401, "auth/invalid")
        assert "Operator token" in client.get("/ops").get_data(as_text=True)


def test_a_forged_cookie_is_refused(herald):
    client = browser(herald.app)
    client.set_cookie("herald_ops", "b3BlcmF0b3I.aaaaaa.forged", path="/ops")
    refused = client.get("/ops/data")
    assert (refused.status_code, refused.get_json()["error"]) == (401, "auth/invalid")


def test_the_cookie_is_secure_over_https_only(herald):
    plain = sign_in(browser(herald.app)).headers["Set-Cookie"]
    assert "Secure" not in plain
    cookie = sign_in(browser(herald.app), scheme="https").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_address_count(herald):
    # Given Herald behind one proxy (HERALD_TRUSTED_PROXIES=1), and one not told of any
    with another_web_process(replace(herald.settings, trusted_proxies=1)) as proxied:
        _forwarded_scheme_and_address_count(herald, proxied)


def _forwarded_scheme_and_address_count(herald, proxied) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": address()}
    # Then the cookie is Secure when the proxy says the request came over https
    assert "Secure" in sign_in(browser(proxied), **forwarded).headers["Set-Cookie"]
    assert "Secure" not in sign_in(browser(herald.app), **forwarded).headers["Set-Cookie"]
    # And the sign-in budget is the forwarded client's, not the proxy's
    proxy = address()
    for _ in range(herald.settings.ops_sign_ins):
        sign_in(browser(proxied, proxy), "wrong", **{"X-Forwarded-For": address()})
    assert sign_in(browser(proxied, proxy), **{"X-Forwarded-For": address()}).status_code == 303


def test_sign_in_attempts_are_throttled_per_address_even_the_right_token(herald):
    # Given an address that spent its sign-in attempts on wrong tokens
    client = browser(herald.app)
    for _ in range(herald.settings.ops_sign_ins):
        assert sign_in(client, "wrong").status_code == 401
    # Then every attempt is refused for a while, the right token too (no guess is confirmed)
    refused = sign_in(client, "wrong")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "retry in" in refused.get_data(as_text=True)
    right = sign_in(client)
    assert right.status_code == 429 and "Set-Cookie" not in right.headers
    bearer = client.get("/ops/data", headers={"Authorization": f"Bearer {OPS_TOKEN}"})
    assert (bearer.status_code, bearer.get_json()["error"]) == (429, "rateLimit/exceeded")
    # And another address signs in
    assert sign_in(browser(herald.app)).status_code == 303


def test_the_throttle_is_shared_by_every_web_process_in_production(herald):
    if herald.mode == "embedded":
        pytest.skip("the embedded mode has one web process")
    # Given a second web process of the same Herald (one Redis namespace)
    remote = address()
    with another_web_process(herald.settings) as other:
        for _ in range(herald.settings.ops_sign_ins):
            assert sign_in(browser(herald.app, remote), "wrong").status_code == 401
        # Then the address is refused there too
        assert sign_in(browser(other, remote)).status_code == 429


def test_a_session_cookie_spends_no_attempt(herald):
    client = browser(herald.app)
    assert sign_in(client).status_code == 303
    for _ in range(herald.settings.ops_sign_ins + 5):
        assert client.get("/ops/data").status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_requeue_takes_json_only(herald, content_type):
    # Given a signed-in browser
    client = browser(herald.app)
    sign_in(client)
    # When a page posts to /ops/requeue what a form or a no-cors fetch can send
    refused = client.post("/ops/requeue", data="{}", content_type=content_type)
    # Then it is refused, and JSON is taken
    assert (refused.status_code, refused.get_json()["error"]) == (415, "body/notJson")
    taken = client.post("/ops/requeue", json={})
    assert taken.status_code == 200 and taken.get_json()["ok"] is True


def test_requeue_refuses_a_body_that_is_not_an_object(herald):
    client = browser(herald.app)
    sign_in(client)
    for body, code in (("[1]", "body/invalid"), ("{", "body/invalidJson")):
        refused = client.post("/ops/requeue", data=body, content_type="application/json")
        assert (refused.status_code, refused.get_json()["error"]) == (400, code)


def test_the_settings_are_read_from_the_environment():
    from shared.infra.config import ConfigError, Settings

    env = {"HERALD_OPS_SESSION_SECONDS": "600", "HERALD_OPS_SIGN_INS": "5"}
    settings = Settings.from_env({**env, "HERALD_TRUSTED_PROXIES": "2"})
    assert (settings.ops_session_seconds, settings.ops_sign_ins, settings.trusted_proxies) == (
        600,
        5,
        2,
    )
    assert Settings.from_env({"HERALD_TRUSTED_PROXIES": "0"}).trusted_proxies == 0
    for value in ("-1", "one", "1.5"):
        with pytest.raises(ConfigError, match="HERALD_TRUSTED_PROXIES"):
            Settings.from_env({"HERALD_TRUSTED_PROXIES": value})
