"""gunicorn settings of the web process (`gunicorn -c python:api.http.gunicorn_conf`): graceful
shutdown, JSON logs, an access log format without query strings, the metrics of exited
workers, and no feed streams."""

from __future__ import annotations

import os

from shared.infra.logs import configure_logging

# An open bell holds its stream for hours: a thread each would soon hold every thread of the
# web process. The `stream` process serves them; the web's stream path answers 404
# `stream/notServed` (unless HERALD_WEB_STREAMS=1 is set for a process that runs alone).
raw_env = [f"HERALD_WEB_STREAMS={os.environ.get('HERALD_WEB_STREAMS') or '0'}"]

# On SIGTERM a worker stops accepting and finishes its requests; `messages.send` holds one for
# at most HERALD_SEND_WAIT (5 s by default), well within this. Give the container's stop grace
# period more than this.
graceful_timeout = 30
# The app logs one JSON line per request (api/http/tracing.py), with its id; no access log.
accesslog = None
# If one is turned on (`--access-logfile`), its lines show the path without the query string,
# where the Notifuse widget sends its userHmac: gunicorn's default format, `%(U)s` for `%(r)s`.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "shared.infra.logs.HeraldFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}

configure_logging("web")  # the role and ids on the arbiter's lines too


def child_exit(server, worker) -> None:
    """A worker exited: its live gauges leave the sums of `/metrics`."""
    # Imported here, not before: the arbiter writes no samples.
    from shared.operations.metrics import process_exited

    process_exited(worker.pid)
