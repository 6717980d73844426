"""CPU microseconds of one SES v2 `SendEmail` and one SNS `Publish`, through the boto3 client and
as Herald's signed requests (`HERALD_AWS_CALLS`), against the stand-in (latency 0).

The stand-in runs as a process of its own, so the figure is the caller's CPU alone: this
process's CPU time over `--calls` sends from one thread, after a warm-up.

    python -m bench.calls [--calls 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable

from bench.payloads import EMAIL_FROM, telephone
from shared.infra.config import Settings
from shared.providers.urls import parse_provider_url
from worker.providers import Email, Provider, Sms

MODES = ("boto3", "signed")
WARM_UP = 200


def standin() -> tuple[subprocess.Popen, str]:
    """The stand-in as a process, and its URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.standin", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def calls(endpoint: str, mode: str) -> dict[str, Callable[[], str]]:
    """One send of each operation, built once, with the providers of this mode."""
    from worker.providers.ses import SesEmailProvider
    from worker.providers.sns import SnsSmsProvider

    settings = Settings(aws_endpoint_url=endpoint, aws_calls=mode)
    email: Provider = SesEmailProvider(settings, parse_provider_url("email", "ses"))
    sms: Provider = SnsSmsProvider(settings, parse_provider_url("sms", "sns"))
    mail = Email("calls-1", "ada@example.com", EMAIL_FROM, "Bench", None, "Build finished",
                 "<p>Hello Ada</p>", "Hello Ada")  # fmt: skip
    email_request = email.build(mail)
    sms_request = sms.build(Sms("calls-1", telephone(1), "Build finished: ok", None))
    return {
        "SendEmail": lambda: email.deliver(email_request),
        "Publish": lambda: sms.deliver(sms_request),
    }


def cpu_per_call(send: Callable[[], str], count: int) -> float:
    """CPU microseconds of this process per send, over `count` sends after a warm-up."""
    for _ in range(WARM_UP):
        send()
    started = time.process_time()
    for _ in range(count):
        send()
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    """Print the CPU per call of each operation and mode."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="measured calls of each")
    args = parser.parse_args()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    process, url = standin()
    try:
        figures = {mode: calls(url, mode) for mode in MODES}
        print(f"CPU µs per call, {args.calls} calls from one thread (stand-in {url})")
        print(f"{'operation':<10} {'boto3':>8} {'signed':>8} {'ratio':>6}")
        for operation in ("SendEmail", "Publish"):
            boto3, signed = (cpu_per_call(figures[m][operation], args.calls) for m in MODES)
            print(f"{operation:<10} {boto3:>8.0f} {signed:>8.0f} {boto3 / signed:>5.1f}x")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
