"""`herald serve` end to end: the installed console script, a real server, the embedded
default with no configuration at all."""

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


def test_serve_with_no_configuration_sends_to_the_outbox(served):
    cwd, base = served["cwd"], served["base"]
    # Given the embedded default created its own SQLite file
    assert (cwd / "var" / "herald.db").is_file()
    # And a project made with the command line in the same folder
    made = subprocess.run(
        [herald_script(), "project", "create", "E2E", "--email-from", "hello@herald.example.com"],
        cwd=cwd,
        env=served["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["apiKey"]
    # When a notification on all three channels is sent to a user with e-mail and telephone
    call(base, "/notifications.upsert", key, ORDER_SHIPPED)
    upserted = call(base, "/users.upsert", key, {"users": [ANN]})
    assert upserted["results"] == [{"id": "ann", "ok": True, "created": True}]
    item = {"notificationId": "order-shipped", "userId": "ann", "data": {"orderId": "A-42"}}
    sent = call(base, "/messages.send", key, {"messages": [item]})
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
