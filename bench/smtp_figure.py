"""`smtp`: the production throughput and batch latency with the e-mail chain an SMTP server
(aiosmtpd on loopback, `bench/smtp_sink.py`) instead of the SES stand-in, the SMS still
through the stand-in: what a self-hosted SMTP provider costs beside SES."""

from __future__ import annotations

from bench.cpu import CpuMeter
from bench.figures import Bench, _batch_row, _rate_row, message_runs
from bench.processes import clean_env, free_port
from bench.production import Production, wait_port
from bench.report import PROD, Row


def smtp(bench: Bench, prod: Production) -> None:
    """The SMTP chain's rows: throughput at 0 ms, CPU per message, one batch at 100 ms."""
    port = free_port()
    for latency in (0.0, 0.1):
        sink = bench.processes.start(
            f"smtp-sink-{int(latency * 1000)}ms",
            f"python -m bench.smtp_sink --port {port} --latency {latency}",
            clean_env(),
        )
        wait_port(sink)
        prod.ensure_standin(latency)
        prod.start_worker(HERALD_EMAIL_PROVIDERS=f"smtp://127.0.0.1:{port}?tls=none")
        prod.wait_delivering()
        try:
            if latency == 0.0:
                _throughput(bench, prod, sink)
            row = _batch_row(bench, prod, PROD, f"SMTP chain, provider {int(latency * 1000)} ms")
            bench.rows.append(row)
        finally:
            bench.processes.stop(sink)
    prod.start_worker()
    prod.wait_delivering()


def _throughput(bench: Bench, prod: Production, sink) -> None:
    roots = {"web": prod.web.pid, "worker": prod.worker.pid}
    cpu = CpuMeter(
        {**roots, "stand-in": prod.standin.pid, "load": bench.load.process.pid, "sink": sink.pid}
    )
    runs = message_runs(bench, prod.base_url, prod.project["apiKey"], "smtp", (cpu,))
    plan = bench.plan
    bench.rows.append(
        _rate_row(
            f"Throughput, SMTP chain (aiosmtpd), provider 0 ms, {plan.clients} clients × "
            f"{plan.client_batch} msgs",
            PROD,
            runs,
            "msg/s",
            note="e-mail over SMTP to a local aiosmtpd, SMS through the stand-in",
        )
    )
    worker_ms = 1000 * cpu.seconds["worker"] / max(sum(run["done"] for run in runs), 1)
    note = "the SES rows' CPU per message, worker (dramatiq), is the one to compare"
    bench.rows.append(
        Row(
            "CPU per message, worker (dramatiq), SMTP chain",
            PROD,
            worker_ms,
            worker_ms,
            "ms",
            note=note,
        )
    )
