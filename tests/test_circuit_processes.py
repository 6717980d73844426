"""SPEC §8's circuit breaker across processes, for real: production mode as the Procfile runs
it, the e-mail chain two SMTP servers, the first refusing at MAIL FROM. Five failures in one
worker process open the circuit; a second worker process, started after the first stopped,
skips that provider; `/ops` and `/metrics` (answered by the web process) show it."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.data import token
from tests.support.deployment import deploy, running
from tests.support.smtp_servers import ScriptedServer

OPS_TOKEN = "ops-circuit-token"
NOTICE = {
    "id": "notice",
    "name": "Notice",
    "withEmail": True,
    "templates": {"en": {"email": {"subject": "Notice", "text": "Notice {{ n }}"}}},
}


def providers(deployment) -> dict[str, dict]:
    """The operator page's providers, by name."""
    request = urllib.request.Request(
        f"{deployment.base}/ops/data", headers={"Authorization": f"Bearer {OPS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return {entry["name"]: entry for entry in json.load(response)["providers"]}


def until_providers(deployment, check, timeout: float = 10) -> dict[str, dict]:
    """The page's providers once `check` holds of them (the tallies are written each second)."""
    deadline = time.monotonic() + timeout
    while True:
        found = providers(deployment)
        if check(found):
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"/ops never showed it: {found}")
        time.sleep(0.2)


def send_one(deployment, second: ScriptedServer) -> str:
    """One e-mail, answered once delivered (the send waits for the worker): its status, and
    whether the second server got it."""
    address = f"{token()}@example.com"
    item = {
        "notificationId": "notice",
        "userId": f"u-{token()}",
        "userEmail": address,
        "data": {"n": 1},
    }
    [result] = deployment.call("/messages.send", {"messages": [item]})["results"]
    got = sum(address.encode() in data for data in second.data)
    return f"{result['channels']['email']['status']} by the second {got} time(s)"


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of an exposition; 0 when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


@pytest.fixture
def servers():
    """The e-mail chain's servers: the first refuses at MAIL FROM, the second takes it."""
    first, second = ScriptedServer({"mail": b"421 4.3.2 try again later\r\n"}), ScriptedServer({})
    yield first, second
    first.stop()
    second.stop()


@pytest.mark.process
def test_failures_in_one_worker_process_open_the_circuit_for_another(
    tmp_path, pg_database, servers
):
    first, second = servers
    deployed = deploy(
        tmp_path,
        pg_database,
        latency=0.0,
        HERALD_OPS_TOKEN=OPS_TOKEN,
        HERALD_OPS_SIGN_INS="1000",  # the test reads /ops with its bearer token often
        HERALD_EMAIL_PROVIDERS=f"{first.url},{second.url}",
        HERALD_WORKER_PROCESSES="1",
        WEB_CONCURRENCY="1",
        HERALD_SEND_WAIT="15",
    )
    with running(deployed) as deployment:
        deployment.start_web()
        deployment.call("/notifications.upsert", NOTICE)
        # Given one worker process whose five sends each failed over from the first server
        one = deployment.start_worker()
        for _ in range(5):
            assert send_one(deployment, second) == "sent by the second 1 time(s)"
        opened = until_providers(deployment, lambda p: p["smtp"]["failover"] == 5)
        assert opened["smtp"]["state"] == "open", opened
        # When it stops and another worker process sends the next e-mail
        deployment.processes.stop(one)
        deployment.start_worker()
        connections = first.received.connections
        # Then that process skipped the first server: its circuit was open for it too
        assert send_one(deployment, second) == "sent by the second 1 time(s)"
        assert first.received.connections == connections and first.data == []
        # And /ops shows each provider's circuit and counts, from both processes
        shows_both_processes(deployment, first.url)
        # And /metrics has the circuit's state and each attempt by outcome
        with urllib.request.urlopen(f"{deployment.base}/metrics", timeout=10) as response:
            counts_each_attempt(response.read().decode())


def shows_both_processes(deployment, first_url: str) -> None:
    """/ops: the first provider open after 5 failures and 1 skip, the second sent all 6."""
    found = until_providers(deployment, lambda p: p["smtp-2"]["sent"] == 6)
    smtp, smtp2 = found["smtp"], found["smtp-2"]
    figures = ("state", "failures", "skipped", "sent")
    assert tuple(smtp[k] for k in figures) == ("open", 5, 1, 0), smtp
    assert "421" in smtp["lastError"] and smtp["url"] == first_url
    assert (smtp2["state"], smtp2["failures"], smtp2["lastError"]) == ("closed", 0, None)
    assert smtp2["meanSeconds"] is not None and smtp["meanSeconds"] is not None


def counts_each_attempt(text: str) -> None:
    """/metrics: the circuits' states and each provider's attempts by outcome."""
    smtp = {"channel": "email", "provider": "smtp"}
    assert metric(text, "herald_provider_circuit_state", **smtp) == 2
    assert metric(text, "herald_provider_attempts_total", **smtp, outcome="failover") == 5
    assert metric(text, "herald_provider_attempts_total", **smtp, outcome="skipped") == 1
    smtp2 = {"channel": "email", "provider": "smtp-2"}
    assert metric(text, "herald_provider_attempts_total", **smtp2, outcome="sent") == 6
    assert metric(text, "herald_provider_attempt_seconds_count", **smtp2) == 6
    assert metric(text, "herald_provider_circuit_state", **smtp2) == 0
