"""One place that turns every error into the error JSON of SPEC §2."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.errors import HeraldError

log = logging.getLogger("herald.api")

HTTP_CODES = {404: "route/notFound", 405: "method/notAllowed"}


def error_response(error: HeraldError):
    """The JSON answer of a HeraldError."""
    response = jsonify(error.as_dict())
    response.status_code = error.status
    return response


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(HeraldError)
    def herald_error(error: HeraldError):
        return error_response(error)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return error_response(
            HeraldError(
                "body/tooLarge",
                f"The body is over the limit of {limit} bytes; send smaller batches.",
                413,
            )
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = HTTP_CODES.get(error.code or 500, "request/invalid")
        return error_response(HeraldError(code, error.description or error.name, error.code or 400))

    @app.errorhandler(OperationalError)
    def database_down(error):
        log.error("database unavailable: %s", error)
        return error_response(
            HeraldError(
                "service/unavailable",
                "The database is unreachable; nothing was accepted. Retry shortly.",
                503,
            )
        )

    @app.errorhandler(DBAPIError)
    def database_error(error):
        log.exception("database error", exc_info=error)
        return error_response(
            HeraldError(
                "service/unavailable",
                "The database refused the request; nothing was accepted. Retry shortly.",
                503,
            )
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error", exc_info=error)
        return error_response(
            HeraldError(
                "internal/error", "Herald failed to handle this request; it has been logged.", 500
            )
        )
