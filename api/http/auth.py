"""Backend API authentication: `Authorization: Bearer <project API key>`."""

from __future__ import annotations

from flask import g, request

from api.http.requests import services
from shared.infra.db import autocommit
from shared.infra.errors import Unauthorized
from shared.tenancy.projects import Project, authenticate


def require_project() -> None:
    """Resolve the request's project into `g.project`, or answer 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise Unauthorized(
            "auth/missing", "Send the project's API key as 'Authorization: Bearer <key>'."
        )
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("auth/invalid", "The Authorization header must be 'Bearer <key>'.")
    with autocommit(services().engine) as connection:
        g.project = authenticate(connection, key.strip())


def current_project() -> Project:
    """The project the request acts for."""
    return g.project
