"""`python -m bench.push_cost_fcm_apns`: what a push costs the sending process, per kind of
push provider (`SETUPS`: kind -> the setup of one provider and a push to send), against the
stand-ins of `tests/support/push_fcm_apns.py` in a process of their own (their CPU not
counted): FCM HTTP v1 over a kept-alive HTTP/1.1 connection, its OAuth2 token held; APNs over
a kept-alive HTTP/2 connection (h2c), its provider token held. Each kind is measured in a fresh
process: CPU per push and wall time (p50)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

PUSHES = 2000
KEY_ID, TEAM_ID, TOPIC = "KEY1234567", "TEAM123456", "com.example.app"
STANDINS = f"""
import json, tempfile, time
from pathlib import Path
from tests.support.push_fcm_apns import ApnsStandin, FcmStandin, write_p8, write_service_account
folder = Path(tempfile.mkdtemp())
fcm = FcmStandin()
credentials, fcm.public_key = write_service_account(folder, fcm.token_uri)
key, public_key = write_p8(folder)
apns = ApnsStandin(public_key, {KEY_ID!r}, {TEAM_ID!r}, {TOPIC!r})
where = dict(fcm=fcm.port, credentials=str(credentials), apns=apns.port, key=str(key))
print(json.dumps(where), flush=True)
time.sleep(10**6)
"""


def _push(kind: str):
    from worker.providers.content import Device, Push

    device = Device(id="d1", kind=kind, token="a" * 64 if kind == "apns" else "fcm-token-1")
    data = {"commentId": 42, "thread": "t-9"}
    return Push("m1", device, "New comment", "Ada replied", url="https://x.test/c", data=data)


def fcm_setup(where: dict):
    """The FCM provider, pointed at the stand-in, and one push to send."""
    from shared.infra import Settings
    from shared.providers.urls import parse_provider_url
    from worker.providers.fcm import FcmProvider

    url = f"fcm://?credentials={where['credentials']}&baseUrl=http://127.0.0.1:{where['fcm']}"
    return FcmProvider(Settings(), parse_provider_url("push", url)), _push("fcm")


def apns_setup(where: dict):
    """The APNs provider, pointed at the stand-in (h2c), and one push to send."""
    from shared.infra import Settings
    from shared.providers.urls import parse_provider_url
    from worker.providers.apns import ApnsProvider

    url = (
        f"apns://?key={where['key']}&keyId={KEY_ID}&teamId={TEAM_ID}&topic={TOPIC}"
        f"&host=http://127.0.0.1:{where['apns']}"
    )
    return ApnsProvider(Settings(), parse_provider_url("push", url)), _push("apns")


SETUPS = {"fcm": fcm_setup, "apns": apns_setup}


def _measure(kind: str, where: dict, warm: int = 50) -> dict:
    """In a process of its own: one kind's CPU and wall per push."""
    provider, push = SETUPS[kind](where)
    for _ in range(warm):  # the connection made, the token exchanged or signed
        provider.send(push)
    walls = []
    cpu0 = time.process_time()
    for _ in range(PUSHES):
        began = time.perf_counter()
        provider.send(push)
        walls.append(time.perf_counter() - began)
    cpu = time.process_time() - cpu0
    return {"cpu_us": 1e6 * cpu / PUSHES, "wall_us": 1e6 * statistics.median(walls)}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(_measure(sys.argv[2], json.loads(sys.argv[3]))))
        return
    standins = subprocess.Popen([sys.executable, "-c", STANDINS], stdout=subprocess.PIPE, text=True)
    try:
        where = standins.stdout.readline().strip()
        rows = {}
        for kind in SETUPS:
            command = [sys.executable, "-m", "bench.push_cost_fcm_apns", "--one", kind, where]
            rows[kind] = json.loads(subprocess.check_output(command, text=True).splitlines()[-1])
    finally:
        standins.terminate()
    print(f"{PUSHES} pushes each, each kind in a fresh process, against local stand-ins")
    print("(their CPU not counted)\n")
    print("| kind | CPU per push | wall per push (p50) |")
    print("|---|---:|---:|")
    for kind, row in rows.items():
        print(f"| {kind} | {row['cpu_us']:.0f} µs | {row['wall_us']:.0f} µs |")


if __name__ == "__main__":
    main()
