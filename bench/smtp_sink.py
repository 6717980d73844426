"""A local SMTP server for the SMTP chain's figure: aiosmtpd (the real protocol, plain, no
AUTH), taking every message after a fixed latency before its 250 to the final dot, as a
process of its own (`python -m bench.smtp_sink --port P --latency S`) so that its CPU is not
counted as Herald's."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import threading

from aiosmtpd.controller import Controller


class Sink:
    """Takes every message; counts them."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.ids = itertools.count(1)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's
        if self.latency:
            await asyncio.sleep(self.latency)
        return f"250 2.0.0 Ok: queued as SINK{next(self.ids)}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.smtp_sink")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    controller = Controller(Sink(args.latency), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"smtp://127.0.0.1:{args.port}?tls=none", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
