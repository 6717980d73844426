"""`/demo` only when asked for: HERALD_DEMO, on by default for `herald serve` on loopback only;
off, every `/demo` path answers as a route that does not exist."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.infra.config import ConfigError, Settings
from tests.support.herald import swapped

DEMO_REQUESTS = [
    ("GET", "/demo"),
    ("POST", "/demo/send"),
    ("GET", "/demo/send"),
    ("GET", "/demo/avatar.svg?name=Ada"),
    ("DELETE", "/demo"),
]


@pytest.mark.parametrize(
    ("raw", "demo"), [(None, None), ("", None), ("1", True), ("true", True), ("0", False)]
)
def test_herald_demo_is_read_from_the_environment(raw, demo):
    env = {} if raw is None else {"HERALD_DEMO": raw}
    assert Settings.from_env(env).demo is demo


def test_a_bad_herald_demo_names_the_variable():
    with pytest.raises(ConfigError, match="HERALD_DEMO"):
        Settings.from_env({"HERALD_DEMO": "sometimes"})


@pytest.mark.parametrize(
    ("host", "demo"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("herald.example.com", False),
    ],
)
def test_herald_serve_turns_the_demo_on_when_it_listens_on_loopback_only(host, demo):
    assert Settings.from_env({}).serving(host).demo is demo


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_herald_demo_set_wins_over_the_host(host):
    assert Settings.from_env({"HERALD_DEMO": "0"}).serving(host).demo is False
    assert Settings.from_env({"HERALD_DEMO": "1"}).serving(host).demo is True


@pytest.mark.parametrize("demo", [None, False])
def test_without_the_demo_every_demo_path_answers_as_an_unknown_route(herald, demo):
    client = herald.app.test_client()
    unknown = client.get("/no-such-route")
    with swapped(herald, settings=replace(herald.settings, demo=demo)):
        for method, path in DEMO_REQUESTS:
            response = client.open(path, method=method, json={})
            assert response.status_code == 404, (method, path)
            assert response.get_json() == unknown.get_json(), (method, path)
            assert "Allow" not in response.headers


def test_the_demo_asked_for_runs_in_the_embedded_mode_only(herald):
    with swapped(herald, settings=replace(herald.settings, demo=True)):
        response = herald.app.test_client().get("/demo/avatar.svg?name=Ada")
    assert response.status_code == (200 if herald.mode == "embedded" else 404)
