"""`python -m bench.twilio_cost`: what a Twilio SMS costs the sending process, Herald's own
client (`worker/providers/twilio.py`: http.client, one kept-alive connection per thread)
against the `twilio` package's (`Client.messages.create`, over requests), both against the
same Messages API stand-in in a process of its own. Per send: CPU of the sending process and
wall time; and each client's import time and the memory it adds. The `twilio` package is not
one of Herald's dependencies: `pip install twilio` first."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time

SENDS = 2000
SID, TOKEN = "ACtest", "tok"
STANDIN = (
    "import time, sys; from tests.support.twilio_standin import TwilioStandin; "
    "s = TwilioStandin(); print(s.port, flush=True); time.sleep(10**6)"
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(send, warm: int = 50) -> dict:
    for _ in range(warm):
        send()
    walls = []
    cpu0 = time.process_time()
    for _ in range(SENDS):
        began = time.perf_counter()
        send()
        walls.append(time.perf_counter() - began)
    cpu = time.process_time() - cpu0
    return {"cpu_us": 1e6 * cpu / SENDS, "wall_us": 1e6 * statistics.median(walls)}


def herald_client(port: int):
    began, rss = time.perf_counter(), _rss_mb()
    from shared.infra import Settings
    from shared.providers.urls import parse_provider_url
    from worker.providers import build_provider
    from worker.providers.content import Sms

    imported = time.perf_counter() - began
    url = f"twilio://{SID}:{TOKEN}@?from=%2B15005550006&baseUrl=http://127.0.0.1:{port}"
    provider = build_provider(Settings(), parse_provider_url("sms", url))
    sms = Sms("m1", "+14155550100", "Your code is 123456", None)
    return (lambda: provider.send(sms)), imported, _rss_mb() - rss


def package_client(port: int):
    began, rss = time.perf_counter(), _rss_mb()
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    imported = time.perf_counter() - began

    class Local(TwilioHttpClient):  # the package's own client, sent to the stand-in
        def request(self, method, url, *args, **kwargs):
            url = url.replace("https://api.twilio.com", f"http://127.0.0.1:{port}")
            return super().request(method, url, *args, **kwargs)

    client = Client(SID, TOKEN, http_client=Local())

    def send():
        client.messages.create(to="+14155550100", from_="+15005550006", body="Your code is 123456")

    return send, imported, _rss_mb() - rss


CLIENTS = {"Herald (http.client)": herald_client, "twilio package": package_client}


def _one(name: str, port: int) -> None:
    """In a process of its own: one client's figures, as JSON on stdout."""
    send, imported, added = CLIENTS[name](port)
    figures = _measure(send)
    print(json.dumps({**figures, "import_ms": imported * 1000, "added_mb": added}))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        return _one(sys.argv[2], int(sys.argv[3]))
    standin = subprocess.Popen([sys.executable, "-c", STANDIN], stdout=subprocess.PIPE, text=True)
    try:
        port = standin.stdout.readline().strip()
        rows = {}
        for name in CLIENTS:
            command = [sys.executable, "-m", "bench.twilio_cost", "--one", name, port]
            rows[name] = json.loads(subprocess.check_output(command, text=True).splitlines()[-1])
    finally:
        standin.terminate()
    print(f"{SENDS} sends each, each client in a fresh process, against a local stand-in")
    print("(its CPU not counted)\n")
    print("| client | CPU per send | wall per send (p50) | import | memory added |")
    print("|---|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['cpu_us']:.0f} µs | {row['wall_us']:.0f} µs | "
            f"{row['import_ms']:.0f} ms | {row['added_mb']:.1f} MB |"
        )


if __name__ == "__main__":
    main()
