"""`/metrics`: what a send counts, in both modes, and a batch counted right across two web and
two worker processes (gunicorn and dramatiq as the Procfile runs them), on `/metrics` and on
the operator page's provider latency."""

from __future__ import annotations

import concurrent.futures
import json
import re
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from shared.infra.db import transaction
from shared.tenancy.ratelimit import Budget, set_project_budget
from tests.support.calls import answer, send, upsert_notification
from tests.support.data import notification, phone, token
from tests.support.deployment import batch, deploy, prepare, running

SEND = "backend.messages_send"
OPS_TOKEN = "ops-metrics-token"
REPO = Path(__file__).resolve().parent.parent


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of an exposition, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    """One sample's value; 0 when absent."""
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_send_is_counted(herald, client):
    # Given a user with an e-mail address and a phone number
    upsert_notification(client, notification())
    user = {"id": f"u-{token()}", "email": f"{token()}@example.com", "telephone": phone()}
    answer(client.post("/users.upsert", {"users": [{**user, "firstName": "Ann"}]}))
    before = samples(client.get("/metrics").get_data(as_text=True))
    # When one message is sent on its three channels
    [result] = send(
        client, {"notificationId": "welcome", "userId": user["id"], "data": {"code": 7}}
    )
    assert result["status"] == "sent", result
    after = samples(client.get("/metrics").get_data(as_text=True))

    # Then the request, the message, each channel, each provider call and the render count once
    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    email, sms = herald.settings.email_providers[0].kind, herald.settings.sms_providers[0].kind
    assert grew("herald_http_requests_total", endpoint=SEND, status="200") == 1
    assert grew("herald_messages_total", status="sent") == 1
    for channel in ("email", "sms", "widget"):
        assert grew("herald_channel_outcomes_total", channel=channel, status="sent") == 1
    assert grew("herald_provider_sends_total", channel="email", provider=email, outcome="sent") == 1
    assert grew("herald_provider_sends_total", channel="sms", provider=sms, outcome="sent") == 1
    assert grew("herald_provider_send_seconds_count", channel="email", provider=email) == 1
    assert grew("herald_render_seconds_count") == 1
    # And the queue is read from the broker at the scrape: nothing waits once it was answered
    assert value(after, "herald_queue_jobs", state="ready") == 0
    assert ("herald_stream_connections", ()) in after
    # And the Grafana dashboard is built on series that /metrics has
    names = {name for name, _ in after}
    assert dashboard_series() <= names, dashboard_series() - names


def test_a_refused_request_is_counted_and_carries_its_id_and_budget(herald, project, client):
    # Given a project allowed one request at once and hardly any after that
    with transaction(herald.engine) as connection:
        set_project_budget(connection, project["projectId"], Budget(rate=0.01, burst=1))
    before = samples(client.get("/metrics").get_data(as_text=True))
    # When it makes two requests in a row, the second with its own request id
    client.get("/notifications.list")
    refused = client.get("/notifications.list", headers={"X-Request-Id": "refused-1"})
    after = samples(client.get("/metrics").get_data(as_text=True))

    # Then the second is refused with the budget's headers and the caller's request id
    assert refused.status_code == 429, refused.get_json()
    assert refused.get_json()["error"] == "rateLimit/exceeded"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-Request-Id"] == "refused-1"
    # And /metrics counts it under its endpoint and status
    labels = {"endpoint": "backend.notifications_list", "status": "429"}
    grew = value(after, "herald_http_requests_total", **labels) - value(
        before, "herald_http_requests_total", **labels
    )
    assert grew == 1


def dashboard_series() -> set[str]:
    """The herald_ series the Grafana dashboard's queries read."""
    dashboard = json.loads((REPO / "docs" / "grafana-dashboard.json").read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    return set(re.findall(r"herald_\w+", " ".join(queries)))


def processes_counting(metrics_dir: Path, name: str, label: str) -> int:
    """How many processes' sample files hold a non-zero count of this metric with this label
    value."""
    counting = set()
    for path in metrics_dir.glob("counter_*.db"):
        for key, count, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            if count and f'"{name}"' in key and f'"{label}"' in key:
                counting.add(path.name)
    return len(counting)


def ops_data(deployment) -> dict:
    """The operator page's figures, signed in with its token."""
    request = urllib.request.Request(
        f"{deployment.base}/ops/data", headers={"Authorization": f"Bearer {OPS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def counts_the_batch(found: dict, requests: int, messages: int) -> None:
    """The samples count these requests to messages.send and these messages, all sent."""
    assert value(found, "herald_http_requests_total", endpoint=SEND, status="200") == requests
    assert value(found, "herald_messages_total", status="sent") == messages
    for channel, provider in (("email", "ses"), ("sms", "sns")):
        labels = {"channel": channel, "provider": provider}
        assert value(found, "herald_provider_sends_total", **labels, outcome="sent") == messages
        assert value(found, "herald_provider_send_seconds_count", **labels) == messages
        sent = value(found, "herald_channel_outcomes_total", channel=channel, status="sent")
        assert sent == messages
    assert value(found, "herald_render_seconds_count") == messages
    assert value(found, "herald_queue_jobs", state="ready") == 0


@pytest.mark.process
def test_a_batch_is_counted_across_two_web_and_two_worker_processes(tmp_path, pg_database):
    # Given the Procfile's web (gunicorn, 2 workers) and worker (dramatiq, 2 processes)
    deployed = deploy(tmp_path, pg_database, latency=0.05, HERALD_OPS_TOKEN=OPS_TOKEN)
    with running(deployed) as deployment:
        deployment.start_web()
        deployment.start_worker()
        prepare(deployment, 40)
        # When 40 messages are sent in 20 concurrent requests of 2
        ids = [str(uuid.uuid4()) for _ in range(40)]
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            answers = pool.map(
                lambda first: deployment.call(
                    "/messages.send", batch(ids[first : first + 2], first)
                ),
                range(0, 40, 2),
            )
            results = [result for answered in answers for result in answered["results"]]
        assert Counter(result["status"] for result in results) == {"sent": 40}, results
        # Then every scrape, whichever web process answers it, counts the whole batch
        for _ in range(4):
            counts_the_batch(samples(deployment.metrics()), requests=20, messages=40)
        # And the operator page, answered by a web process, shows the worker processes' calls
        latency = ops_data(deployment)["latency"]
        for channel in ("email", "sms"):
            assert latency[channel]["calls"] == 40, latency
            assert latency[channel]["mean"] >= 0.05 and latency[channel]["p50"] >= 0.05, latency
        # And the counts came from both web processes and both worker processes
        metrics_dir = deployment.metrics_dir
        assert processes_counting(metrics_dir, "herald_http_requests_total", SEND) == 2
        assert processes_counting(metrics_dir, "herald_messages_total", "sent") == 2
        # And the provider received each e-mail and SMS once
        assert len(deployment.standin.emails) == 40 and len(deployment.standin.sms) == 40
    # And every process logged JSON lines, each message's delivery with its ids, no address
    web, worker = (process.log.read_text() for process in (deployment.web, deployment.worker))
    lines = [json.loads(line) for line in (web + worker).splitlines()]
    jobs = [line for line in lines if line.get("job_id")]
    assert all(line["project_id"] == deployment.project["projectId"] for line in jobs), jobs
    assert {line["message_id"] for line in jobs} == set(ids)
    assert "@example.com" not in web + worker and "+4479112" not in web + worker
