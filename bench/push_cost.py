"""`python -m bench.push_cost [--only KIND] [--pushes N]`: what one push costs the sending
process, per push provider kind (`KINDS`): the CPU of a whole send (build: the payload
encrypted and the request signed; post; parse) against a stand-in of the push service in a
process of its own (its CPU not counted), the CPU of the build alone, the wall time per send,
and the import of the provider's module. Each kind runs in a fresh process.

A kind is one entry of `KINDS`: a context manager that starts its stand-in and yields a
`Setup` (the provider's send and build of one push)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Setup:
    """One kind's push, ready to measure: `send` delivers it, `build` only builds it."""

    send: Callable[[], object]
    build: Callable[[], object]
    import_ms: float


@contextlib.contextmanager
def standin_process(module: str, cls: str) -> Iterator[int]:
    """A stand-in class of `tests.support` serving in a process of its own: its port."""
    code = (
        f"import time; from {module} import {cls}; s = {cls}(); "
        "print(s.port, flush=True); time.sleep(10**6)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        yield int(process.stdout.readline().strip())
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def webpush() -> Iterator[Setup]:
    """Web Push: aes128gcm for a fresh subscription, VAPID-signed, to a stand-in on loopback."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from shared.infra import Settings
    from shared.providers.urls import parse_provider_url
    from shared.push.vapid import b64url, new_key_pair
    from worker.providers.content import Device, Push

    began = time.perf_counter()
    from worker.providers.webpush import WebPushProvider

    imported = (time.perf_counter() - began) * 1000
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    with standin_process("tests.support.push_webpush", "WebPushStandin") as port:
        settings = Settings(vapid_private_key=new_key_pair()[0], webhooks_allow_private=True)
        provider = WebPushProvider(settings, parse_provider_url("push", "webpush://"))
        endpoint = f"http://127.0.0.1:{port}/push/bench"
        device = Device(
            "d1", "webpush", endpoint=endpoint, p256dh=b64url(point), auth=b64url(os.urandom(16))
        )
        push = Push(
            "m1", device, "Your order shipped", "It arrives on Tuesday.", url="https://a/o/1"
        )
        yield Setup(lambda: provider.send(push), lambda: provider.build(push), imported)
        provider.close()


# Push provider kind -> its setup (the FCM and APNs providers add theirs here).
KINDS: dict[str, Callable[[], contextlib.AbstractContextManager[Setup]]] = {
    "webpush": webpush,
}


def _cpu_us(step: Callable[[], object], count: int) -> float:
    """CPU µs of this process per call of `step`."""
    began = time.process_time()
    for _ in range(count):
        step()
    return 1e6 * (time.process_time() - began) / count


def measure(kind: str, pushes: int) -> dict:
    """One kind's figures, in this process."""
    with KINDS[kind]() as setup:
        for _ in range(50):
            setup.send()  # warm: the connection open, the VAPID token signed
        walls = []
        for _ in range(min(pushes, 500)):
            began = time.perf_counter()
            setup.send()
            walls.append(time.perf_counter() - began)
        return {
            "send_cpu_us": _cpu_us(setup.send, pushes),
            "build_cpu_us": _cpu_us(setup.build, pushes),
            "wall_us": 1e6 * statistics.median(walls),
            "import_ms": setup.import_ms,
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.push_cost", description=__doc__)
    parser.add_argument(
        "--only", default="", help=f"comma-separated kinds among {', '.join(KINDS)}"
    )
    parser.add_argument("--pushes", type=int, default=2000)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return print(json.dumps(measure(args.one, args.pushes)))
    kinds = [kind.strip() for kind in args.only.split(",") if kind.strip()] or list(KINDS)
    print(f"{args.pushes} pushes each, each kind in a fresh process, against a local stand-in")
    print("(its CPU not counted)\n")
    print("| kind | CPU per push (send) | CPU per build | wall per push (p50) | import |")
    print("|---|---:|---:|---:|---:|")
    for kind in kinds:
        command = [
            sys.executable,
            "-m",
            "bench.push_cost",
            "--one",
            kind,
            "--pushes",
            str(args.pushes),
        ]
        row = json.loads(subprocess.check_output(command, text=True).splitlines()[-1])
        print(
            f"| {kind} | {row['send_cpu_us']:.0f} µs | {row['build_cpu_us']:.0f} µs | "
            f"{row['wall_us']:.0f} µs | {row['import_ms']:.0f} ms |"
        )


if __name__ == "__main__":
    main()
