"""schemathesis against a served Herald's /openapi.json, every check on: no 500, each answer
as documented (status, content type, headers, body), valid requests accepted, invalid ones
refused, 405 with `Allow`, the stateful links between operations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.feed.reading import user_hmac
from tests.support.browser import served
from tests.support.calls import Client, answer, upsert_notification
from tests.support.data import notification, token
from tests.support.herald import new_project, running_herald
from tests.support.sink import Sink

pytestmark = pytest.mark.process  # the schemathesis command, a process of its own

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Per mode: the run's time budget (fuzzing and stateful testing repeat until it is spent) and
# the examples per operation. The seed makes a run repeat the one before it.
MAX_TIME = int(os.environ.get("HERALD_SCHEMATHESIS_TIME", "55"))
MAX_EXAMPLES = 25
SEED = int(os.environ.get("HERALD_SCHEMATHESIS_SEED", "20251128"))
UNLIMITED = {"rate_limit": 1e6, "rate_burst": 10**6}
UNLIMITED |= {"front_rate_limit": 1e6, "front_rate_burst": 10**6}
# Webhook endpoints and push subscriptions the run makes point at a sink on loopback (the
# private-address switch on), so whatever Herald posts or pushes stays on this machine.
UNLIMITED |= {"webhooks_allow_private": True}

CONFIG = """
seed = {seed}
max-time = {max_time}
# One worker: hypothesis parses lambdas with `ast` and two threads at it can trip its checks.
workers = 1
request-timeout = 15
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large"]
headers = {{ Authorization = "Bearer {key}" }}

[generation]
max-examples = {max_examples}
# Herald refuses NUL in every string (SPEC §7), and says so; JSON Schema can't say it of the
# free-form `data` objects, so none is generated.
allow-x00 = false
# No example database in the work tree: each run starts from the seed alone.
database = "none"

# Requests made valid as the OpenAPI can't state: tests/schemathesis_hooks.py.

[parameters]
"query.projectId" = "{project_id}"
"query.userId" = "{user_id}"
"query.userHmac" = "{user_hmac}"
"header.X-Herald-User-Hmac" = "{user_hmac}"
"body.projectId" = "{project_id}"
"body.userId" = "{user_id}"
"body.userHmac" = "{user_hmac}"

# The server-sent event stream never ends: a request to it would wait out the timeout.
[[operations]]
include-operation-id = "frontMessagesStream"
enabled = false

# SES feedback must come signed by SNS with a certificate of Amazon's: without one, every
# request is the documented 403 and a valid one can't be made.
[[operations]]
include-operation-id = "webhooksSes"
enabled = false

# The documented webhooks.upsert example names a host of the reader's (app.example.com): it
# resolves nowhere, and Herald refuses it, rightly. Generated bodies get a public address
# (tests/schemathesis_hooks.py); the hooks don't reach the example phase.
[[operations]]
include-operation-id = "webhooksUpsert"
phases.examples.enabled = false

# SPEC §2: a problem with one item of a batch never fails the batch. An invalid item is
# answered 200 with `ok: false` and its error in its result, so an invalid item is not
# refused with a 4xx.
[[operations]]
include-operation-id = ["messagesSend", "usersUpsert"]
checks.negative_data_rejection.expected-statuses = ["200", "400", "401", "413", "429"]
"""


@pytest.fixture(scope="module", params=["embedded", "production"])
def served_herald(request, tmp_path_factory):
    """A Herald of each mode without request budgets (the run sends thousands of requests),
    served on a free loopback port: (herald, base URL)."""
    with (
        running_herald(request, tmp_path_factory, **UNLIMITED) as herald,
        served(herald.app) as url,
        Sink() as sink,
    ):
        os.environ["HERALD_SCHEMATHESIS_SINK"] = sink.url
        yield herald, url


def _known_data(herald, project: dict) -> str:
    """A user and a notification the generated requests can name: the user's id."""
    client = Client(herald.app, project["apiKey"])
    upsert_notification(client, notification("order-shipped"))
    user_id = f"user-{token()}"
    answer(client.post("/users.upsert", {"users": [{"id": user_id}]}))
    return user_id


def _config(tmp_path: Path, project: dict, user_id: str) -> Path:
    """The run's configuration file, with the project's key and the known user."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        CONFIG.format(
            seed=SEED,
            max_time=MAX_TIME,
            max_examples=MAX_EXAMPLES,
            key=project["apiKey"],
            project_id=project["projectId"],
            user_id=user_id,
            user_hmac=user_hmac(project["widgetSecret"], user_id),
        )
    )
    return config


def _schemathesis(url: str, config: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`schemathesis run` with every check against the served OpenAPI; its outcome."""
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(config),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        cwd=tmp_path,  # its caches stay out of the work tree
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        },
        capture_output=True,
        text=True,
        timeout=MAX_TIME + 240,
    )


def test_schemathesis_finds_nothing(served_herald, tmp_path):
    herald, url = served_herald
    project = new_project(herald, "schemathesis")
    user_id = _known_data(herald, project)
    config = _config(tmp_path, project, user_id)
    run = _schemathesis(url, config, tmp_path)
    print(run.stdout, run.stderr)  # pytest shows it when the test fails
    assert run.returncode == 0, "schemathesis found failures: see the captured output"
