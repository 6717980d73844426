"""Herald on real sockets for the stream tests: the Procfile's `web` (gunicorn) and `stream`
(aiohttp) as separate processes over one PostgreSQL database and Redis namespace, started
with the same process machinery as the fault tests and the benchmarks; and Herald on the
stand-in SES and SNS server for the delivery tests, with the alert they send and what of it
the stand-in recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.processes import Processes, clean_env, free_port, procfile, wait_http
from bench.standin import StandIn
from tests.support.calls import send
from tests.support.data import token
from tests.support.herald import Herald, build_herald, stop_herald

ALERT = {
    "id": "alert",
    "name": "Alert",
    "withEmail": True,
    "withSMS": True,
    "templates": {
        "en": {
            "email": {"subject": "Alert {{ n }}", "text": "Alert {{ n }}"},
            "sms": {"text": "Alert {{ n }}"},
        }
    },
}


@dataclass
class Live:
    """A Herald on real sockets: where to call the API and where to open streams."""

    herald: object
    web: str
    stream: str


def production_processes(
    herald, heartbeat: float, log_dir: Path, **values: str
) -> tuple[Processes, str, str]:
    """Start `web` and `stream` from the Procfile on free ports (`values`: more variables of
    their environment); the processes (to stop them all at the end) and the two base URLs,
    once each one's /healthz answers."""
    settings = herald.settings
    env = clean_env(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        HERALD_REDIS_NAMESPACE=settings.redis_namespace,
        AWS_ENDPOINT_URL=settings.aws_endpoint_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        HERALD_STREAM_HEARTBEAT=str(heartbeat),
        WEB_CONCURRENCY="1",
        HERALD_WEB_THREADS="8",
        **values,
    )
    processes = Processes(log_dir)
    urls = []
    for name in ("web", "stream"):
        port = free_port()
        process = processes.start(name, procfile(name), {**env, "PORT": str(port)})
        urls.append(f"http://127.0.0.1:{port}")
        try:
            wait_http(f"{urls[-1]}/healthz", process, timeout=30)
        except RuntimeError:
            processes.stop_all()
            raise
    return processes, *urls


def standin_herald(
    request: pytest.FixtureRequest, tmp_path_factory, standin: StandIn, **overrides
) -> Iterator[Herald]:
    """For a fixture parametrised by mode: a Herald whose SES and SNS are the stand-in."""
    herald = build_herald(
        request.param,
        tmp_path_factory.mktemp(f"standin-{request.param}"),
        request,
        email_provider="ses",
        sms_provider="sns",
        aws_endpoint_url=standin.url,
        **overrides,
    )
    yield herald
    stop_herald(herald)


def one_message(client, address: str, number: str, **extra) -> dict:
    """Send the alert to this address and number; its result."""
    item = {"notificationId": "alert", "userId": f"u-{token()}", "data": {"n": 1}, **extra}
    [result] = send(client, {**item, "userEmail": address, "userTelephone": number})
    return result


def received(standin: StandIn, address: str, number: str) -> tuple[int, int]:
    """How many e-mails to this address and SMS to this number the stand-in recorded."""
    emails = sum(1 for m in standin.emails if m["Destination"]["ToAddresses"] == [address])
    sms = sum(1 for m in standin.sms if m["PhoneNumber"] == number)
    return emails, sms
