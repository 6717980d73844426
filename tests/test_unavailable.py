"""A dependency that is down: a clear 503, nothing accepted, never a 500."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from sqlalchemy import create_engine

from shared.infra.broker import build_broker
from tests.support.calls import Client, upsert_notification
from tests.support.data import widget_notification
from tests.support.herald import swapped


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_broker(herald) -> object:
    """A broker of this mode on a Redis that does not answer."""
    return build_broker(replace(herald.settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0"))


def test_database_down_answers_503_service_unavailable(herald, project):
    down = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none",
        connect_args={"connect_timeout": 2},
    )
    client = Client(herald.app, project["apiKey"])
    with swapped(herald, engine=down):
        response = client.post("/users.upsert", {"users": [{"id": "u"}]})
        assert response.status_code == 503
        assert response.get_json()["error"] == "service/unavailable"
        assert client.get("/readyz").status_code == 503


def test_broker_down_makes_readyz_503(herald):
    if herald.settings.embedded:
        pytest.skip("the embedded broker lives in the process: it can't be down alone")
    with swapped(herald, broker=dead_broker(herald)):
        response = Client(herald.app, None).get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "service/unavailable",
        "message": "The broker (Redis) is unreachable.",
    }


def test_broker_down_at_send_keeps_the_message_queued_for_the_sweeper(herald, project):
    if herald.settings.embedded:
        pytest.skip("the embedded broker lives in the process: it can't be down alone")
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, widget_notification("n"))
    item = {"notificationId": "n", "userId": "u", "id": "kept"}
    with swapped(herald, broker=dead_broker(herald)):
        [result] = client.post("/messages.send", {"messages": [item]}).get_json()["results"]
        message = client.get("/messages.get", id="kept").get_json()["message"]
    assert result["ok"] is True and result["status"] == "queued"
    assert message["status"] == "queued"
