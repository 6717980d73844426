"""Request budgets (SPEC §2): RateLimit-* headers on every answer, 429 with Retry-After over
the budget, one bucket per project shared by every web process."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.processes import free_port
from shared.infra.db import autocommit, transaction
from shared.infra.errors import HeraldError
from shared.tenancy.ratelimit import Budget, project_budget, set_project_budget
from tests.support.backends import REDIS_TEST
from tests.support.calls import Client
from tests.support.cli import herald_script, run_herald


def set_budget(herald, project: dict, rate: float, burst: int) -> None:
    with transaction(herald.engine) as connection:
        set_project_budget(connection, project["projectId"], Budget(rate, burst))


def test_a_burst_over_the_budget_gets_429_with_retry_after(herald, project, client):
    # Given a project allowed 5 requests at once and 1 a second after that
    set_budget(herald, project, rate=1, burst=5)

    answers = [client.get("/notifications.list") for _ in range(8)]

    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert [a.headers["RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert all(a.headers["RateLimit-Limit"] == "5" for a in answers)
    refused = [a for a in answers[5:] if a.status_code == 429]
    assert len(refused) >= 2  # at most one token came back while the burst ran
    for answer in refused:
        assert answer.get_json()["error"] == "rateLimit/exceeded"
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.headers["RateLimit-Remaining"] == "0"
        assert int(answer.headers["RateLimit-Reset"]) >= 1


def test_under_the_budget_no_request_is_refused(herald, client):
    answers = [client.get("/notifications.list") for _ in range(50)]

    assert {a.status_code for a in answers} == {200}
    assert answers[0].headers["RateLimit-Limit"] == "200"
    assert int(answers[-1].headers["RateLimit-Remaining"]) >= 150
    assert "Retry-After" not in answers[-1].headers


def test_one_projects_burst_does_not_spend_anothers_budget(herald, project, client):
    set_budget(herald, project, rate=0.5, burst=2)
    for _ in range(4):
        client.get("/notifications.list")
    with transaction(herald.engine) as connection:
        from shared.tenancy.projects import create_project

        other = create_project(connection, "other")

    answer = Client(herald.app, other["apiKey"]).get("/notifications.list")

    assert answer.status_code == 200
    assert answer.headers["RateLimit-Remaining"] == "199"


def test_error_answers_carry_the_headers_too(herald, client):
    answer = client.get("/messages.get", id="nope")

    assert answer.status_code == 404
    assert answer.headers["RateLimit-Limit"] == "200"


def test_the_frontend_budget_is_per_user(herald, project):
    from api.http.errors import error_response
    from api.http.ratelimit import check_front_limit

    settings = herald.settings
    refused, allowed = None, 0
    started = time.monotonic()
    with herald.app.test_request_context():
        # Spend until refused: the bucket refills while we spend, so count what got through.
        while refused is None and allowed < 10 * settings.front_rate_burst:
            try:
                check_front_limit(project["projectId"], "ann")
                allowed += 1
            except HeraldError as error:
                refused = error
        refill = settings.front_rate_limit * (time.monotonic() - started)
        check_front_limit(project["projectId"], "bob")  # another user's own budget
        assert refused is not None
        assert error_response(refused).status_code == 429
    assert settings.front_rate_burst <= allowed <= settings.front_rate_burst + refill + 1
    assert refused.code == "rateLimit/exceeded"


def test_limits_set_stores_the_projects_budget(sqlite_url, engine_of):
    made = run_herald("project", "create", "Acme")
    project_id = re.search(r'"projectId": "([^"]+)"', made.stdout).group(1)

    result = run_herald("limits", "set", project_id, "--rate", "5", "--burst", "20")

    assert result.exit_code == 0, result.output
    with autocommit(engine_of(sqlite_url)) as connection:
        assert project_budget(connection, project_id, _defaults()) == Budget(5.0, 20)
    unknown = run_herald("limits", "set", "prj_nope", "--rate", "5", "--burst", "20")
    assert unknown.exit_code != 0 and "prj_nope" in unknown.output
    zero = run_herald("limits", "set", project_id, "--rate", "5", "--burst", "0")
    assert zero.exit_code != 0 and "burst" in zero.output


def _defaults():
    from shared.infra.config import Settings

    return Settings()


def _get(base: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + "/notifications.list", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.fixture
def two_workers(herald, tmp_path):
    """gunicorn with two worker processes on the production database and Redis namespace."""
    if herald.mode != "production":
        pytest.skip("the embedded mode is one process: its budget is in memory")
    port, log = free_port(), tmp_path / "access.log"
    env = {
        **os.environ,
        "DATABASE_URL": herald.settings.database_url,
        "REDIS_URL": REDIS_TEST,
        "HERALD_REDIS_NAMESPACE": herald.settings.redis_namespace,
        "AWS_ENDPOINT_URL": herald.settings.aws_endpoint_url or "",
    }
    gunicorn = os.path.join(os.path.dirname(herald_script()), "gunicorn")
    command = [gunicorn, "--workers", "2", "--worker-class", "sync"]
    command += ["--bind", f"127.0.0.1:{port}", "--access-logfile", str(log)]
    command += ["--access-logformat", "%(p)s %(s)s", "api:create_app()"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_both_workers(base, log)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=15)


def _answering_pids(log) -> set[str]:
    if not log.exists():  # gunicorn opens it once a worker has answered
        return set()
    return {line.split()[0] for line in log.read_text().splitlines() if line.strip()}


def _wait_for_both_workers(base: str, log) -> None:
    """Each worker builds its app after the fork: wait until both have answered."""
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(4) as pool:
        while len(_answering_pids(log)) < 2:
            if time.monotonic() > deadline:
                pytest.fail("gunicorn's two workers did not both answer /healthz in 30 s")
            list(pool.map(lambda _: _healthz(base), range(8)))
            time.sleep(0.1)


def _healthz(base: str) -> None:
    with contextlib.suppress(OSError):
        urllib.request.urlopen(base + "/healthz", timeout=1).close()


@pytest.mark.process
def test_the_budget_is_shared_across_two_gunicorn_workers(herald, project, two_workers):
    # Given a project allowed 10 requests at once and 1 a second, served by two processes
    base, log = two_workers
    set_budget(herald, project, rate=1, burst=10)
    already = len(log.read_text().splitlines())

    with ThreadPoolExecutor(8) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda _: _get(base, project["apiKey"]), range(40)))
        elapsed = time.monotonic() - started

    # Then the two processes together let through the burst (and what refilled), no more
    allowed = [headers for status, headers in answers if status == 200]
    refused = [headers for status, headers in answers if status == 429]
    assert 10 <= len(allowed) <= 10 + int(elapsed) + 1
    assert len(allowed) + len(refused) == 40
    assert all(int(headers["Retry-After"]) >= 1 for headers in refused)
    burst_lines = log.read_text().splitlines()[already:]
    assert len({line.split()[0] for line in burst_lines}) == 2  # both processes answered


@pytest.mark.process
def test_under_the_budget_two_gunicorn_workers_refuse_nothing(herald, project, two_workers):
    base, _ = two_workers

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for s, _ in pool.map(lambda _: _get(base, project["apiKey"]), range(60))]

    assert statuses == [200] * 60
