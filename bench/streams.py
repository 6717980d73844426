"""The feed-stream figure: how many idle `GET /front/messages.stream` connections one `stream`
process holds, its memory (RSS), and the time from `messages.send` to the event on the page
while they are open. Production mode as the Procfile runs it (web, worker, stream).

    .venv/bin/python -m bench.streams [--levels 1000,5000] [--samples 30]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import random
import resource
import secrets
import statistics
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.client import Api, delivered
from bench.payloads import messages_body
from bench.processes import REPO, Processes, free_port, procfile, wait_http
from bench.production import Production

OPEN_AT_ONCE = 200


class StreamProduction(Production):
    """The production set-up on a Redis namespace of its own, so that no other Herald on this
    Redis takes its jobs or hears its events."""

    namespace = f"herald-streams-{secrets.token_hex(4)}"

    def env(self, **values: str) -> dict[str, str]:
        return super().env(HERALD_REDIS_NAMESPACE=self.namespace, **values)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's master and its worker)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) * 1024
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return total + sum(rss_bytes(int(child)) for child in children)


class Streams:
    """Idle streams held open by this process, one per user `stream-<n>`."""

    def __init__(self, port: int, project: dict[str, str]) -> None:
        self.port = port
        self.project = project
        self.readers: dict[int, asyncio.StreamReader] = {}
        self.writers: list[asyncio.StreamWriter] = []

    async def open(self, n: int) -> None:
        """Open user n's stream and read up to its `stream.open` event."""
        user = f"stream-{n}"
        signature = hmac.new(
            self.project["widgetSecret"].encode(), user.encode(), hashlib.sha256
        ).hexdigest()
        query = urlencode(
            {"projectId": self.project["projectId"], "userId": user, "userHmac": signature}
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
        writer.write(f"GET /front/messages.stream?{query} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        await self.until(reader, b"stream.open")
        self.readers[n] = reader
        self.writers.append(writer)

    @staticmethod
    async def until(reader: asyncio.StreamReader, marker: bytes) -> None:
        """Read lines until one holds the marker."""
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("the stream closed")
            if marker in line:
                return

    async def grow(self, count: int) -> float:
        """Open streams up to `count`, OPEN_AT_ONCE at a time; the seconds it took."""
        began = time.monotonic()
        pending = list(range(len(self.readers), count))
        for first in range(0, len(pending), OPEN_AT_ONCE):
            await asyncio.gather(*(self.open(n) for n in pending[first : first + OPEN_AT_ONCE]))
        return time.monotonic() - began

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


async def send_to_event(streams: Streams, api: Api, n: int, sample: int) -> tuple[float, float]:
    """Seconds from sending one message to user n to (its `message.new` on the open stream,
    the answer of `messages.send`)."""
    body = messages_body("stream", n, 1)
    body["messages"][0]["id"] = f"bench-stream-{n}-{sample}-{time.time_ns()}"
    began = time.monotonic()
    waiting = asyncio.ensure_future(streams.until(streams.readers[n], b"message.new"))
    waiting.add_done_callback(lambda _: arrived.append(time.monotonic()))
    arrived: list[float] = []
    status, answer = await asyncio.to_thread(api.post, "/messages.send", body)
    answered = time.monotonic()
    if status != 200 or not delivered(answer["results"][0]):
        raise RuntimeError(f"the send failed: {status} {answer}")
    try:
        await asyncio.wait_for(waiting, 10)
    except TimeoutError:
        raise RuntimeError(f"no event for stream-{n} ({body['messages'][0]['id']})") from None
    await asyncio.sleep(0)
    return arrived[0] - began, answered - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(prod: Production, stream_pid: int, port: int, levels, samples) -> list[str]:
    """One row per level of open streams."""
    streams = Streams(port, prod.project)
    api = Api(prod.base_url, prod.project["apiKey"])
    rows = []
    baseline = rss_bytes(stream_pid)
    rows.append(f"stream process RSS with no stream open: {baseline / 2**20:.1f} MiB")
    try:
        for level in levels:
            took = await streams.grow(level)
            await asyncio.sleep(2)
            rss = rss_bytes(stream_pid)
            timed = [
                await send_to_event(streams, api, random.randrange(level), sample)
                for sample in range(samples)
            ]
            latencies = [event for event, _ in timed]
            answers = [answer for _, answer in timed]
            rows.append(
                f"{level:>6} open streams (opened in {took:.1f} s): RSS {rss / 2**20:.1f} MiB "
                f"({(rss - baseline) / level / 1024:.1f} KiB a stream); messages.send to event "
                f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
                f"max {max(latencies) * 1000:.0f} ms ({samples} sends; the send itself "
                f"answered at p50 {statistics.median(answers) * 1000:.0f} ms)"
            )
            print(rows[-1], flush=True)
    finally:
        streams.close()
        api.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streams", description=__doc__)
    parser.add_argument("--levels", default="1000,5000", help="open streams to measure at")
    parser.add_argument("--samples", type=int, default=30, help="sends timed at each level")
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the processes inherit it
    folder = REPO / "bench" / "results" / time.strftime("streams-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    processes = Processes(folder)
    prod = StreamProduction(processes)
    try:
        prod.setup()
        port = free_port()
        # the default cap (HERALD_STREAMS_PER_PROCESS, 1,000) raised to the levels measured
        env = {**prod.env(HERALD_STREAMS_PER_PROCESS=str(max(levels))), "PORT": str(port)}
        stream = processes.start("stream", procfile("stream"), env)
        wait_http(f"http://127.0.0.1:{port}/healthz", stream)
        rows = asyncio.run(measure(prod, stream.pid, port, levels, args.samples))
    finally:
        processes.stop_all()
        prod.teardown()
    print("\n".join(["", "Feed streams (one `stream` process):", *rows]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
