"""kill -9 of a worker during an SMTP send (production, real processes): the e-mail whose data
went out is `unknown` and is never sent again, by the first provider or the next."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from sqlalchemy import create_engine

from tests.support.backends import IN_CI, backends_down, fresh_database
from tests.support.data import token
from tests.support.processes import Stack, rows, settled
from tests.support.smtp_servers import ScriptedServer

NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Notice", "text": "Notice {{ n }}"}}},
}


@pytest.mark.process
def test_a_worker_killed_waiting_for_the_final_dot_leaves_the_email_unknown(
    standin, tmp_path_factory
):
    down = backends_down() or (None if shutil.which("redis-server") else "no redis-server")
    if down:
        if IN_CI:
            pytest.fail(f"the fault tests are required in CI, but {down}")
        pytest.skip(f"fault tests skipped: {down}")
    first, second = ScriptedServer({"dot": "silent"}), ScriptedServer({})
    settings = {
        "HERALD_EMAIL_PROVIDERS": f"{first.url},{second.url}",
        "HERALD_PROVIDER_TIMEOUT": "20",  # the worker waits on the final dot when it is killed
        "HERALD_SEND_TIME_LIMIT": "40",
        "HERALD_SWEEP_INTERVAL": "0.5",
        "HERALD_SWEEP_REQUEUE_AFTER": "2",
        "HERALD_SEND_WAIT": "0.5",
    }
    with fresh_database("herald_smtp_kill") as url:
        herald = Stack(
            tmp_path_factory.mktemp("smtp-kill"), url.rsplit("/", 1)[1], standin.url, **settings
        )
        try:
            found, address = _killed_during_the_dot(herald, url)
        finally:
            herald.close()
            first.stop()
            second.stop()
    (row,) = found.values()
    assert row.email_status == "unknown", row
    assert sum(address.encode() in data for data in first.data) == 1  # its data went once
    assert not any(address.encode() in data for data in second.data)  # never to the next


def _killed_during_the_dot(herald: Stack, url: str):
    """Send one e-mail, kill the worker while it waits for the final dot's answer, start
    another: the message once settled, and its address."""
    herald.start_redis()
    herald.herald("db", "upgrade")
    herald.start_web()
    project = json.loads(herald.herald("project", "create", "k", "--email-from", "a@example.com"))
    herald.key = project["apiKey"]
    assert herald.api(herald.key).post("/notifications.upsert", NOTICE)[0] == 200
    herald.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    doomed = herald.start_worker()
    tag = token()
    address = f"{tag}-0@example.com"
    items = [
        {"notificationId": "notice", "userId": f"{tag}-0", "userEmail": address, "data": {"n": 1}}
    ]
    assert herald.api(herald.key).post("/messages.send", {"messages": items})[0] == 200
    deadline = time.monotonic() + 30
    while not any(row.email_status == "sending" for row in rows(herald, items).values()):
        assert time.monotonic() < deadline, "the e-mail was never claimed"
        time.sleep(0.1)
    time.sleep(1.0)  # its data has gone to the first server, whose answer never comes
    herald.kill_worker(doomed)
    herald.start_worker()
    return settled(herald, items, timeout=90), address
