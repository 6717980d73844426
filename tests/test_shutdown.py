"""SIGTERM to the Procfile's processes: the web finishes its in-flight requests; a worker
finishes or returns its jobs, and every accepted message still reaches a final state."""

from __future__ import annotations

import concurrent.futures
import time
import urllib.error
import uuid

import pytest

from tests.support.deployment import batch, deploy, prepare, running, terminate

pytestmark = pytest.mark.process  # the Procfile's web and worker

FINAL = {"sent", "failed"}


def test_sigterm_to_the_web_finishes_its_in_flight_requests(tmp_path, pg_database):
    # Given the web and worker processes, with a provider that takes 2 s to answer
    with running(deploy(tmp_path, pg_database, latency=2.0)) as deployment:
        web = deployment.start_web()
        deployment.start_worker()
        prepare(deployment, 3)
        ids = [str(uuid.uuid4()) for _ in range(3)]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            # When a send is in flight and the web's master gets SIGTERM
            sending = pool.submit(deployment.call, "/messages.send", batch(ids))
            time.sleep(0.7)
            assert not sending.done()
            took = terminate(web, timeout=30)
            # Then the request was answered in full before the web exited, which it did cleanly
            results = sending.result(timeout=5)["results"]
        assert [result["status"] for result in results] == ["sent"] * 3, results
        assert web.popen.returncode == 0, web.tail(30)
        assert 1.0 < took < 30
        # And it takes no new request
        with pytest.raises(urllib.error.URLError):
            deployment.call("/healthz")


def test_sigterm_to_a_worker_during_a_batch_loses_no_message(tmp_path, pg_database):
    # Given a worker of 2 processes working 4 messages at a time each, a provider taking 0.5 s
    env = {"HERALD_WORKER_THREADS": "4", "HERALD_WORKER_PREFETCH": "4", "HERALD_SEND_WAIT": "1"}
    with running(deploy(tmp_path, pg_database, latency=0.5, **env)) as deployment:
        deployment.start_web()
        worker = deployment.start_worker()
        prepare(deployment, 48)
        ids = [str(uuid.uuid4()) for _ in range(48)]
        # When a batch of 48 is accepted and the worker gets SIGTERM while working on it
        results = deployment.call("/messages.send", batch(ids))["results"]
        assert all(result["ok"] for result in results), results
        took = terminate(worker, timeout=30)
        # Then it exited cleanly within its grace period, with part of the batch left undone
        assert worker.popen.returncode == 0, worker.tail(30)
        assert took < 20, worker.tail(30)
        left = [id_ for id_, status in deployment.statuses(ids).items() if status not in FINAL]
        assert left, "the batch was over before the SIGTERM; the test shows nothing"
        # And a worker started again brings every accepted message to a final state
        deployment.start_worker()
        deadline = time.monotonic() + 60
        while (statuses := deployment.statuses(ids)) and time.monotonic() < deadline:
            if all(status in FINAL for status in statuses.values()):
                break
            time.sleep(0.2)
        assert set(statuses.values()) == {"sent"}, statuses
        # And each e-mail and SMS went to the provider once
        assert sorted(
            e["Destination"]["ToAddresses"][0] for e in deployment.standin.emails
        ) == sorted(f"person{i}@example.com" for i in range(48))
        assert len(deployment.standin.sms) == 48
