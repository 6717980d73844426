"""A local stand-in for SES v2 `SendEmail` and SNS `Publish` with a fixed latency and injectable
faults, for what moto can't do (be slow, throttle, fail).

It speaks the wire formats boto3 uses, so Herald's real boto3 path runs against it. The
benchmarks run it as a process (`python -m bench.standin`); the delivery tests import it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

SNS_OK = (
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
    "<MessageId>{id}</MessageId></PublishResult><ResponseMetadata><RequestId>{id}"
    "</RequestId></ResponseMetadata></PublishResponse>"
)
HANG_UP = 0
SNS_ERROR = (
    '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
    "<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
    "<RequestId>{id}</RequestId></ErrorResponse>"
)


class Fault:
    """An answer to give instead of success: an HTTP status with a provider error code, or
    `HANG_UP` (0): the connection closed once the request was read, with no answer."""

    def __init__(self, status: int, code: str, message: str = "injected fault") -> None:
        self.status, self.code, self.message = status, code, message


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (a read timeout under test) is expected, not an error."""


class StandIn:
    """The server: `url`, `latency` (seconds), `faults` (per service, answered in order),
    and what it received (`emails`, `sms`). With `idle_timeout`, it closes a kept-alive
    connection that brought no request for that many seconds, as AWS's front ends do."""

    def __init__(
        self,
        latency: float = 0.0,
        record: bool = True,
        port: int = 0,
        idle_timeout: float | None = None,
    ) -> None:
        self.latency = latency
        self.record = record
        self.faults: dict[str, deque[Fault]] = {"ses": deque(), "sns": deque()}
        self.emails: list[dict] = []
        self.sms: list[dict] = []
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"standin": self, "timeout": idle_timeout})
        self.server = _Server(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(self, service: str, *faults: Fault) -> None:
        """Answer the next requests to `service` ("ses" or "sns") with these faults."""
        with self.lock:
            self.faults[service].extend(faults)

    def next_fault(self, service: str) -> Fault | None:
        with self.lock:
            return self.faults[service].popleft() if self.faults[service] else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # without it every answer waits ~40 ms on delayed ACKs
    standin: StandIn

    def log_message(self, *_args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.standin.latency:
            time.sleep(self.standin.latency)
        if self.path.startswith("/v2/email/outbound-emails"):
            self._ses(json.loads(body or b"{}"))
        else:
            self._sns({k: v[0] for k, v in parse_qs(body.decode()).items()})

    def _ses(self, request: dict) -> None:
        fault = self.standin.next_fault("ses")
        if self._hung_up(fault):
            return
        if fault:
            self._answer(
                fault.status,
                json.dumps({"message": fault.message}),
                "application/json",
                {"x-amzn-ErrorType": fault.code},
            )
            return
        message_id = str(uuid.uuid4())
        if self.standin.record:
            with self.standin.lock:
                self.standin.emails.append({"MessageId": message_id, **request})
        self._answer(200, json.dumps({"MessageId": message_id}), "application/json")

    def _sns(self, form: dict) -> None:
        message_id = str(uuid.uuid4())
        fault = self.standin.next_fault("sns")
        if self._hung_up(fault):
            return
        if fault:
            self._answer(
                fault.status,
                SNS_ERROR.format(code=fault.code, message=fault.message, id=message_id),
                "text/xml",
            )
            return
        if self.standin.record:
            with self.standin.lock:
                self.standin.sms.append({"MessageId": message_id, **form})
        self._answer(200, SNS_OK.format(id=message_id), "text/xml")

    def _hung_up(self, fault: Fault | None) -> bool:
        """True when the fault is to close the connection without an answer (closed here)."""
        if fault is None or fault.status != HANG_UP:
            return False
        self.close_connection = True
        return True

    def _answer(
        self, status: int, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    standin = StandIn(args.latency, record=False, port=args.port)
    print(standin.url, flush=True)
    standin.server.serve_forever()
