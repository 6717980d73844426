"""The fixtures of the delivery feedback tests, which a test module imports to use: the SNS
stand-in `sns`, `herald` (each mode) listening to its topic, `client` with the receipt
notification, and `loopback`, which fails a test that tried to reach past loopback."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from tests.support.calls import upsert_notification
from tests.support.feedback import NOTIFICATION, TOPIC, sns_standin
from tests.support.herald import running_herald


@pytest.fixture(scope="module", name="sns")
def sns_fixture():
    """The SNS stand-in: signs messages, serves its certificate and the SubscribeURL."""
    with sns_standin() as standin:
        yield standin


@pytest.fixture(scope="module", params=["embedded", "production"], name="herald")
def herald_fixture(request, tmp_path_factory):
    """A Herald listening to TOPIC that takes SNS certificates from 127.0.0.1 over HTTP (the
    stand-in)."""
    with running_herald(
        request,
        tmp_path_factory,
        sns_certificate_hosts=("127.0.0.1",),
        sns_allow_http=True,
        sns_topic_arns=(TOPIC,),
    ) as instance:
        yield instance


@pytest.fixture(name="client")
def client_fixture(client):
    """The project's client, with the receipt notification upserted."""
    upsert_notification(client, NOTIFICATION)
    return client


@pytest.fixture(autouse=True, name="loopback")
def loopback_fixture(monkeypatch):
    """Nothing a test does reaches past loopback: a name lookup or connection to anything else
    fails before it starts, and fails the test."""
    tried: list[str] = []
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def guarded_lookup(host, *args, **kwargs):
        if host is not None and not _loopback(host):
            tried.append(str(host))
            raise socket.gaierror(f"{host}: a test talks to loopback only")
        return lookup(host, *args, **kwargs)

    def guarded_connect(self, address):
        if isinstance(address, tuple) and not _loopback(address[0]):
            tried.append(str(address[0]))
            raise ConnectionRefusedError(f"{address[0]}: a test talks to loopback only")
        return connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield
    assert tried == [], f"the test tried to reach {tried}"


def _loopback(host) -> bool:
    """True for localhost and a loopback address."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
