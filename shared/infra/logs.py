"""Logs as JSON lines: the process role and the ids of the request or delivery on every line,
and no personal data beyond ids, nor credentials."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from typing import IO, Any

import dramatiq
from dramatiq.middleware import Middleware
from pythonjsonlogger.json import JsonFormatter

ROLES = ("web", "worker", "stream")
# The ids a line can carry: set by the request (request_id) or the delivery job (job_id, then
# project_id and message_id once its row is read), read by every line logged meanwhile.
_context: ContextVar[dict[str, str]] = ContextVar("herald_log_context", default={})  # noqa: B039
_role = {"process": "web"}

# Anything that reaches a line by way of an error (a database error's DETAIL, SQLAlchemy's
# statement parameters, a provider's message) is scrubbed of these before it is written.
_PARAMETERS = re.compile(r"\[parameters: [^\n]*\]")
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+\d[\d\s().-]{6,}\d")
# The frontend's credentials travel in query strings (the Notifuse widget's userHmac, the
# bell's streamToken), which a request line (the development server's, an access log's) shows.
_CREDENTIALS = re.compile(r"((?:userHmac|streamToken)=)[^&\s\"'#]*", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with SQL parameters, frontend credentials in URLs, e-mail addresses and phone
    numbers replaced."""
    text = _CREDENTIALS.sub(r"\1<hidden>", _PARAMETERS.sub("[parameters: hidden]", text))
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


class HiddenCredentials(logging.Filter):
    """Redact a record before any handler writes it, whatever the handler's format: the request
    lines of gunicorn's and aiohttp's access logs and of the development server."""

    LOGGERS = ("gunicorn.access", "aiohttp.access", "werkzeug")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = redact(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


class HeraldFormatter(JsonFormatter):
    """One JSON object a line: time, level, role, logger, message, the ids, the error."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{role}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key in ("message", "exc_info", "stack_info"):
            if isinstance(log_data.get(key), str):
                log_data[key] = redact(log_data[key])
        return {"time": log_data.pop("time"), **log_data}


def _record_factory(factory):
    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = factory(*args, **kwargs)
        made.role = _role["process"]
        made.__dict__.update(_context.get())
        return made

    record.herald = True
    return record


def configure_logging(role: str, level: int = logging.INFO) -> None:
    """Log JSON lines for a process of this role: the root logger's plain stream handlers (or
    a new one on stderr) get the JSON formatter, and the request loggers hide credentials.
    Called again, it changes nothing more."""
    if role not in ROLES:
        raise ValueError(f"a process role is one of {', '.join(ROLES)}, not {role!r}")
    _role["process"] = role
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "herald", False):
        logging.setLogRecordFactory(_record_factory(factory))
    root = logging.getLogger()
    handlers = [handler for handler in root.handlers if type(handler) is logging.StreamHandler]
    if not handlers:
        handlers = [logging.StreamHandler(sys.stderr)]
        root.addHandler(handlers[0])
    for handler in handlers:
        handler.setFormatter(HeraldFormatter())
    root.setLevel(level)
    for name in HiddenCredentials.LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(kept, HiddenCredentials) for kept in logger.filters):
            logger.addFilter(HiddenCredentials())


def json_handler(stream: IO[str]) -> logging.Handler:
    """A handler writing JSON lines to a stream."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(HeraldFormatter())
    return handler


def current_ids() -> dict[str, str]:
    """The ids the lines logged now carry."""
    return dict(_context.get())


def begin(**ids: str) -> None:
    """Lines logged from now on in this context (a request's thread) carry these ids only."""
    _context.set({key: str(value) for key, value in ids.items()})


def annotate(**ids: str | None) -> None:
    """Add ids to the lines logged from now on in this context (a job's or a request's)."""
    _context.set({**_context.get(), **{k: str(v) for k, v in ids.items() if v is not None}})


@contextlib.contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Inside the block, lines carry these ids too."""
    token = _context.set(_context.get())
    annotate(**ids)
    try:
        yield
    finally:
        _context.reset(token)


class JobLogs(Middleware):
    """Every line logged while a job runs carries its job id and the worker role."""

    def __init__(self) -> None:
        self.tokens = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        self.tokens.token = _context.set({"role": "worker", "job_id": message.message_id})

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        token = getattr(self.tokens, "token", None)
        if token is not None:
            _context.reset(token)
            self.tokens.token = None

    after_skip_message = after_process_message
