"""kill -9 of a worker during a push (production, real processes): the device whose push went
out without an answer is `unknown` and never pushed again, the one pushed before it is not
pushed again either, and the one not yet tried is pushed by the next worker."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from sqlalchemy import create_engine, select

from shared.infra.models import push_sends
from shared.push.vapid import new_key_pair
from tests.support.backends import IN_CI, backends_down, fresh_database
from tests.support.data import token
from tests.support.processes import Stack, rows, settled
from tests.support.push_webpush import WebPushStandin
from tests.test_push_channel import push_notification
from tests.test_push_webpush import Browser


@pytest.mark.process
def test_a_worker_killed_during_a_push_leaves_it_unknown_and_pushes_no_device_again(
    standin, tmp_path_factory
):
    down = backends_down() or (None if shutil.which("redis-server") else "no redis-server")
    if down:
        if IN_CI:
            pytest.fail(f"the fault tests are required in CI, but {down}")
        pytest.skip(f"fault tests skipped: {down}")
    service = WebPushStandin(hang=30.0)
    private, _ = new_key_pair()
    settings = {
        "HERALD_PUSH_PROVIDERS": "webpush://?subject=mailto:ops@example.com",
        "HERALD_VAPID_PRIVATE_KEY": private,
        "HERALD_WEBHOOKS_ALLOW_PRIVATE": "1",
        "HERALD_PROVIDER_TIMEOUT": "20",  # the worker waits on the service when it is killed
        "HERALD_SEND_TIME_LIMIT": "40",
        "HERALD_SWEEP_INTERVAL": "0.5",
        "HERALD_SWEEP_REQUEUE_AFTER": "2",
        "HERALD_SEND_WAIT": "0.5",
    }
    with fresh_database("herald_push_kill") as url:
        herald = Stack(
            tmp_path_factory.mktemp("push-kill"), url.rsplit("/", 1)[1], standin.url, **settings
        )
        try:
            found, names = _killed_during_the_push(herald, url, service)
            time.sleep(3)  # sweeps go by: nothing is pushed again
            with herald.engine.connect() as connection:
                statuses = dict(
                    connection.execute(select(push_sends.c.to, push_sends.c.status)).all()
                )
        finally:
            herald.close()
            service.close()
    (row,) = found.values()
    assert row.push_status == "sent", row
    by_name = {name: statuses[to] for name in names for to in statuses if name.endswith(to[-8:])}
    assert by_name == dict(zip(names, ("sent", "unknown", "sent"), strict=True))
    assert sorted(r.endpoint for r in service.received) == sorted(names)  # each pushed once


def _killed_during_the_push(herald: Stack, url: str, service: WebPushStandin):
    """Push to two browsers, the second one's service never answering; kill the worker while
    it waits, start another: the message once settled, and the endpoints' names."""
    herald.start_redis()
    herald.herald("db", "upgrade")
    herald.start_web()
    herald.key = json.loads(herald.herald("project", "create", "k"))["apiKey"]
    api = herald.api(herald.key)
    assert api.post("/notifications.upsert", push_notification("shipped"))[0] == 200
    tag = token()
    names = [f"{tag}-fast", f"{tag}-silent", f"{tag}-later"]
    service.answers[names[1]] = "hang"
    devices = []
    for name in names:
        browser = Browser()
        keys = {"p256dh": browser.p256dh, "auth": browser.device("").auth}
        subscription = {"endpoint": service.endpoint(name), "keys": keys}
        devices.append({"kind": "webpush", "subscription": subscription})
    user = {"id": f"{tag}-0", "pushTokens": devices}
    assert api.post("/users.upsert", {"users": [user]})[0] == 200
    herald.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    doomed = herald.start_worker()
    items = [{"notificationId": "shipped", "userId": f"{tag}-0", "data": {"order": 1}}]
    assert api.post("/messages.send", {"messages": items})[0] == 200
    deadline = time.monotonic() + 30
    while len(service.received) < 2:
        assert time.monotonic() < deadline, "the second push never went"
        time.sleep(0.1)
    assert rows(herald, items)[f"{tag}-0"].push_status == "sending"
    herald.kill_worker(doomed)
    herald.start_worker()
    return settled(herald, items, timeout=90), names
