"""`herald serve` end to end: the installed console script, a real server, the embedded
default with no configuration at all: its files readable by its user only, the demo on."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench.processes import free_port
from tests.support.cli import herald_script

pytestmark = pytest.mark.process  # `herald serve` and its commands as processes


def call(base: str, path: str, key: str, body: dict | None = None) -> dict:
    """One backend API call over HTTP; answers the JSON body (of a 4xx too)."""
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        pytest.fail(f"{path} answered {error.code}: {error.read().decode()}")


ORDER_SHIPPED = {
    "id": "order-shipped",
    "name": "Order shipped",
    "withWidget": True,
    "withEmail": True,
    "withSMS": True,
    "templates": {
        "en": {
            "widget": {"content": "Order {{ orderId }} shipped"},
            "email": {
                "subject": "Order {{ orderId }} for {{ firstName }}",
                "html": "<p>Hi {{ firstName }}</p>",
                "text": "Hi {{ firstName }}",
            },
            "sms": {"text": "{{ firstName }}, order {{ orderId }} is on its way"},
        }
    },
}
ANN = {"id": "ann", "email": "ann@example.com", "telephone": "+447911123456", "firstName": "Ann"}


def wait_healthy(process: subprocess.Popen, base: str, logs: Path) -> None:
    """Return once the server answers /healthz; fail with its log if it exits or takes 30 s."""
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"herald serve exited with {process.returncode}:\n{logs.read_text()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"herald serve did not answer /healthz in 30 s:\n{logs.read_text()}")
        time.sleep(0.1)


@pytest.fixture
def served(tmp_path_factory):
    """`herald serve` as a real process in an empty folder with no configuration at all."""
    cwd = tmp_path_factory.mktemp("served")
    logs = tmp_path_factory.mktemp("served-logs") / "serve.log"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HERALD_")
        and name not in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL")
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with logs.open("wb") as log:
        process = subprocess.Popen(
            [herald_script(), "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            umask=0o022,  # a usual shell's: what Herald creates must be private by itself
        )
    try:
        wait_healthy(process, base, logs)
        yield {"base": base, "cwd": cwd, "env": env}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def create_project(served: dict) -> str:
    """A project made with the command line in the served folder; answers its API key."""
    made = subprocess.run(
        [herald_script(), "project", "create", "E2E", "--email-from", "hello@herald.example.com"],
        cwd=served["cwd"],
        env=served["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)["apiKey"]


def send_order_to_ann(served: dict) -> dict:
    """A new project's order-shipped notification sent to Ann on all three channels."""
    base, key = served["base"], create_project(served)
    call(base, "/notifications.upsert", key, ORDER_SHIPPED)
    upserted = call(base, "/users.upsert", key, {"users": [ANN]})
    assert upserted["results"] == [{"id": "ann", "ok": True, "created": True}]
    item = {"notificationId": "order-shipped", "userId": "ann", "data": {"orderId": "A-42"}}
    return call(base, "/messages.send", key, {"messages": [item]})


def mode(path: Path) -> int:
    """The permission bits of a file or folder."""
    return path.stat().st_mode & 0o777


def test_serve_with_no_configuration_sends_to_the_outbox(served):
    cwd = served["cwd"]
    # Given the embedded default created its own SQLite file
    assert (cwd / "var" / "herald.db").is_file()
    # When a project made with the command line in the same folder sends a notification on all
    # three channels to a user with e-mail and telephone
    sent = send_order_to_ann(served)
    # Then the answer tells it was sent on every channel
    [result] = sent["results"]
    assert result["ok"] is True and result["status"] == "sent", result
    assert {name: channel["status"] for name, channel in result["channels"].items()} == {
        "email": "sent",
        "sms": "sent",
        "widget": "sent",
    }
    # And the outbox holds the e-mail and the SMS, rendered
    outbox = cwd / "var" / "outbox"
    [eml] = list(outbox.rglob("*.eml"))
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert mail["Subject"] == "Order A-42 for Ann"
    assert mail["To"] == "ann@example.com"
    [line] = (outbox / "sms.log").read_text(encoding="utf-8").splitlines()
    sms = json.loads(line)
    assert sms["text"] == "Ann, order A-42 is on its way"
    assert sms["to"] == "+447911123456"


def test_serve_creates_its_database_and_outbox_for_its_user_only(served):
    # Given `herald serve` started under umask 022 in an empty folder
    var = served["cwd"] / "var"
    # When it has sent an e-mail and an SMS
    [result] = send_order_to_ann(served)["results"]
    assert result["status"] == "sent", result
    # Then the SQLite file and its journal files are 0600, the folders 0700
    for name in ("herald.db", "herald.db-wal", "herald.db-shm"):
        assert mode(var / name) == 0o600, name
    outbox = var / "outbox"
    assert (mode(var), mode(outbox), mode(outbox / "email")) == (0o700, 0o700, 0o700)
    # And so are the messages in the outbox
    written = [*outbox.rglob("*.eml"), outbox / "sms.log"]
    assert len(written) == 2
    assert {path.name: mode(path) for path in written} == {path.name: 0o600 for path in written}


def test_serve_on_loopback_serves_the_demo(served):
    with urllib.request.urlopen(served["base"] + "/demo", timeout=30) as response:
        assert response.status == 200
        assert "text/html" in response.headers["Content-Type"]
