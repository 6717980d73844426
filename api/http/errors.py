"""One place that turns every error into the error JSON of SPEC §2 and its HTTP status."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.infra.errors import (
    Conflict,
    Forbidden,
    HeraldError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)

log = logging.getLogger("herald.api")

# The HTTP status of each kind of domain error; any other HeraldError is a 400.
STATUSES: dict[type[HeraldError], int] = {
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    Conflict: 409,
    UnsupportedMediaType: 415,
    RateLimited: 429,
    Unavailable: 503,
}
HTTP_CODES = {404: "route/notFound", 405: "method/notAllowed"}


def error_response(error: HeraldError, status: int | None = None) -> Response:
    """The JSON answer of a HeraldError, with the status of its kind unless one is given."""
    response = jsonify(error.as_dict())
    response.status_code = status or STATUSES.get(type(error), 400)
    return response


def database_detail(error: DBAPIError) -> str:
    """What an operator needs of a database error, without the values of the request: the
    driver's error class, its SQLSTATE and the statement (placeholders, not parameters). The
    server's message may quote a value (`invalid input syntax: "<value>"`): it is left out."""
    sqlstate = getattr(error.orig, "sqlstate", None) or "-"
    statement = " ".join((error.statement or "").split())[:500]
    return f"{type(error.orig).__name__} (SQLSTATE {sqlstate}) in: {statement}"


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(HeraldError)
    def herald_error(error: HeraldError):
        return error_response(error)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error):
        limit = app.config["MAX_CONTENT_LENGTH"]
        message = f"The body is over the limit of {limit} bytes; send smaller batches."
        return error_response(HeraldError("body/tooLarge", message), 413)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = HTTP_CODES.get(error.code or 500, "request/invalid")
        message = error.description or error.name
        response = error_response(HeraldError(code, message), error.code or 400)
        if getattr(error, "valid_methods", None):  # a 405 says which methods the path takes
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    _database_handlers(app)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error", exc_info=error)
        message = "Herald failed to handle this request; it has been logged."
        return error_response(HeraldError("internal/error", message), 500)


def _database_handlers(app: Flask) -> None:
    """A database that is down, refuses, or has no free connection: 503, nothing accepted."""

    @app.errorhandler(OperationalError)
    def database_down(error):
        log.error("database unavailable: %s", database_detail(error))
        message = "The database is unreachable; nothing was accepted. Retry shortly."
        return error_response(Unavailable("service/unavailable", message))

    @app.errorhandler(DBAPIError)
    def database_error(error):
        log.error("database error: %s", database_detail(error))
        message = "The database refused the request; nothing was accepted. Retry shortly."
        return error_response(Unavailable("service/unavailable", message))

    @app.errorhandler(PoolTimeout)
    def pool_exhausted(error):
        log.error("no free database connection: %s", error)
        message = "Herald is at its database connections; nothing was accepted. Retry shortly."
        return error_response(Unavailable("service/unavailable", message))
