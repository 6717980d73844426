"""A project's own provider chain (SPEC §8, `herald providers add`): its messages go through
it, every other project's through the operator's default; a chain whose stored URL no key
opens fails its channel rather than fall back to the operator's providers. Both modes."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from shared.infra.secrets import SecretBox
from shared.providers.store import add_provider
from tests.support.calls import Client, send, until_final, upsert_notification
from tests.support.data import token
from tests.support.herald import build_herald, new_project, stop_herald
from tests.support.smtp_servers import ScriptedServer

NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Notice", "text": "Notice {{ n }}"}}},
}
KEY = Fernet.generate_key().decode()


@pytest.fixture(params=["embedded", "production"])
def herald(request, tmp_path):
    herald = build_herald(request.param, tmp_path, request, secret_keys=(KEY,), send_wait=15.0)
    yield herald
    stop_herald(herald)


def _send_one(client: Client) -> tuple[str, dict]:
    upsert_notification(client, NOTICE)
    address = f"{token()}@example.com"
    item = {"notificationId": "notice", "userId": f"u-{token()}", "userEmail": address}
    [result] = send(client, {**item, "data": {"n": 1}})
    return address, until_final(client, result["id"])


def test_a_projects_own_chain_takes_its_mail_and_only_its(herald):
    own, failing = ScriptedServer({}), ScriptedServer({"greeting": b"421 4.3.2 busy\r\n"})
    try:
        mine = new_project(herald, "own")
        secret_url = f"smtp://user:pw@127.0.0.1:{failing.server_address[1]}?tls=none"
        add_provider(herald.engine, (KEY,), mine["projectId"], "email", secret_url, "relay")
        add_provider(herald.engine, (KEY,), mine["projectId"], "email", own.url, "backup")
        address, message = _send_one(Client(herald.app, mine["apiKey"]))
        other_address, other = _send_one(Client(herald.app, new_project(herald)["apiKey"]))
    finally:
        own.stop()
        failing.stop()
    email = message["channels"]["email"]
    assert email["status"] == "sent" and email["provider"] == "backup", message
    outcomes = [(a["provider"], a["outcome"]) for a in email["attempts"]]
    assert outcomes == [("relay", "failover"), ("backup", "sent")]
    assert sum(address.encode() in data for data in own.data) == 1
    # the other project knows nothing of these providers: the default chain took it
    assert other["channels"]["email"]["status"] == "sent"
    assert other["channels"]["email"]["provider"] != "backup"
    assert not any(other_address.encode() in data for data in own.data)


def test_a_chain_no_key_opens_fails_rather_than_use_the_default(herald):
    project = new_project(herald, "sealed")
    old_key = Fernet.generate_key().decode()
    url = "smtp://user:pw@127.0.0.1:2525?tls=none"
    add_provider(herald.engine, (old_key,), project["projectId"], "email", url, "relay")
    assert SecretBox((old_key,)).seal(url) != url  # stored sealed under a key Herald lacks
    _, message = _send_one(Client(herald.app, project["apiKey"]))
    email = message["channels"]["email"]
    assert email["status"] == "failed", message
    assert email["reason"].startswith("provider/unreadable: relay: No key of HERALD_SECRET_KEY")
    assert "providerMessageId" not in email


def test_a_process_reads_a_projects_chains_again_after_five_seconds(herald):
    from worker.providers.book import FRESH_FOR, ChainBook

    project = new_project(herald, "book")["projectId"]
    now = [100.0]
    book = ChainBook(herald.settings, {"email": "default-email"}, clock=lambda: now[0])

    def chain() -> object:
        with herald.engine.connect() as connection:
            return book.chains(connection, project)["email"]

    assert chain() == "default-email"
    add_provider(herald.engine, (KEY,), project, "email", "outbox://", "files")
    now[0] += FRESH_FOR - 0.1  # still fresh: the default goes on
    assert chain() == "default-email"
    now[0] += 0.2
    first = chain()
    now[0] += FRESH_FOR + 1  # read again: the same provider object, its connections kept
    again = chain()
    assert [p.name for p in first.members] == ["files"] and first.scope == project
    assert again.members[0] is first.members[0]
