"""The operator page's headers, cookie and throttle, and the body bounds, under gunicorn as the
Procfile runs it (two web processes) behind one TLS proxy (HERALD_TRUSTED_PROXIES=1)."""

from __future__ import annotations

import http.client
import secrets
from urllib.parse import urlencode, urlsplit

import pytest

from shared.infra.config import Settings
from tests.support.bodies import nested, users_body
from tests.support.deployment import deploy, running

OPS_TOKEN = "ops-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def web(tmp_path_factory, pg_database):
    """The Procfile's `web` line (2 gunicorn workers), the operator page on, one proxy trusted."""
    deployed = deploy(
        tmp_path_factory.mktemp("hardening"),
        pg_database,
        latency=0,
        HERALD_OPS_TOKEN=OPS_TOKEN,
        HERALD_TRUSTED_PROXIES="1",
    )
    with running(deployed) as deployment:
        deployment.start_web()
        yield deployment


def call(web, method: str, path: str, body=None, headers: dict | None = None, chunked=False):
    """One request on a connection of its own (so the two workers share them): the response,
    read."""
    parts = urlsplit(web.base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body, headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        response.data = response.read()
        return response
    finally:
        connection.close()


def client_address() -> dict[str, str]:
    """The header the proxy adds: a client address of this test alone."""
    return {"X-Forwarded-For": f"192.0.2.{secrets.randbelow(254) + 1}"}


def sign_in(web, token: str, headers: dict[str, str]):
    form = urlencode({"token": token})
    content = {"Content-Type": "application/x-www-form-urlencoded"}
    return call(web, "POST", "/ops/login", form, {**content, **headers})


@pytest.mark.parametrize(
    "path", ["/ops", "/ops/data", "/docs", "/openapi.json", "/widget.js", "/healthz", "/nothing"]
)
def test_every_answer_refuses_framing_and_sniffing(web, path):
    response = call(web, "GET", path)
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")


def test_the_pages_run_only_their_own_scripts(web):
    for path in ("/ops", "/docs"):
        policy = call(web, "GET", path).getheader("Content-Security-Policy")
        assert "script-src 'self';" in policy and "unsafe" not in policy.split("script-src")[1]


def test_the_session_cookie_is_secure_when_the_proxy_took_https(web):
    # When the operator signs in through the TLS proxy
    over_tls = sign_in(web, OPS_TOKEN, {"X-Forwarded-Proto": "https", **client_address()})
    # Then the session cookie is Secure, HttpOnly, SameSite=Strict and lasts 8 hours
    assert over_tls.status == 303
    cookie = over_tls.getheader("Set-Cookie")
    for part in ("Secure", "HttpOnly", "SameSite=Strict", "Max-Age=28800", "Path=/ops"):
        assert part in cookie, cookie
    assert OPS_TOKEN not in cookie
    # And either web process takes it
    session = cookie.split(";")[0]
    for _ in range(4):
        assert call(web, "GET", "/ops/data", headers={"Cookie": session}).status == 200
    # And over plain http (no X-Forwarded-Proto) the cookie is not Secure
    plain = sign_in(web, OPS_TOKEN, client_address()).getheader("Set-Cookie")
    assert "Secure" not in plain


def test_the_sign_in_throttle_is_shared_by_the_two_web_processes(web):
    # Given a client that spent its attempts, its requests spread over both workers
    address = client_address()
    for _ in range(Settings.ops_sign_ins):
        assert sign_in(web, "wrong", address).status == 401
    # Then it is refused, even with the right token, as a bearer too
    refused = sign_in(web, OPS_TOKEN, address)
    assert refused.status == 429 and int(refused.getheader("Retry-After")) >= 1
    bearer = {"Authorization": f"Bearer {OPS_TOKEN}", **address}
    assert call(web, "GET", "/ops/data", headers=bearer).status == 429
    # And another client is not
    assert sign_in(web, OPS_TOKEN, client_address()).status == 303


def test_requeue_refuses_a_form_post_with_415(web):
    session = sign_in(web, OPS_TOKEN, client_address()).getheader("Set-Cookie").split(";")[0]
    headers = {"Cookie": session, "Content-Type": "text/plain"}
    refused = call(web, "POST", "/ops/requeue", "{}", headers)
    assert refused.status == 415 and b"body/notJson" in refused.data


def test_a_chunked_body_over_1_mib_is_413(web):
    key = {"Authorization": f"Bearer {web.project['apiKey']}"}
    body = users_body(Settings.max_body_bytes + 1)
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    refused = call(web, "POST", "/users.upsert", chunks, key, chunked=True)
    assert refused.status == 413 and b"body/tooLarge" in refused.data


def test_a_deep_body_with_a_lone_surrogate_is_400(web):
    body = nested(900, inner='"\\ud800"').encode()
    for path in ("/users.upsert", "/front/messages.read"):
        key = {"Authorization": f"Bearer {web.project['apiKey']}"}
        refused = call(web, "POST", path, body, key)
        assert refused.status == 400 and b"body/invalidJson" in refused.data
        assert b"64 levels" in refused.data
