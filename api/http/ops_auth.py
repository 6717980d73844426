"""Who may use `/ops` and `/console`: the operator token (HERALD_OPS_TOKEN) as a bearer, or the
session cookie that signing in with it sets; at `/console`, a project API key too, whose session
sees that project alone and ends at the first request after the key is revoked.

The cookie holds a value signed with the token and timestamped (itsdangerous, which Flask
ships): it expires after HERALD_OPS_SESSION_SECONDS, stops working when the token changes, and
never holds the token. Every check of a presented token, right or wrong, takes one attempt from
the client address's sign-in budget (HERALD_OPS_SIGN_INS a minute): a throttle that let a
right token through while it refused wrong ones would tell a guesser which guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import Response, abort, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from api.http.ratelimit import limit_sign_in
from api.http.requests import services
from shared.infra.db import autocommit
from shared.infra.errors import NotFound, Unauthorized
from shared.tenancy.projects import authenticate_key, live_key

COOKIE = "herald_ops"
_SALT = "herald ops session"
SIGN_IN_FIRST = "Sign in to /ops with the operator token first."


@dataclass(frozen=True)
class Door:
    """A page behind the sign-in: its cookie, the path the cookie is sent to, its salt."""

    cookie: str
    path: str
    salt: str
    sign_in_first: str


OPS = Door(COOKIE, "/ops", _SALT, SIGN_IN_FIRST)
CONSOLE = Door("herald_console", "/console", "herald console session", "Sign in first.")


@dataclass(frozen=True)
class Viewer:
    """Who a console session is: the operator (every project), or one project's API key."""

    key_id: str | None = None  # None: the operator
    project_id: str | None = None

    @property
    def operator(self) -> bool:
        """True for the operator, who sees every project."""
        return self.key_id is None

    def check_sees(self, project_id: str) -> None:
        """404 `project/notFound` for a project this viewer may not see, as for one that does
        not exist: a key's session can't learn which other projects there are."""
        if not self.operator and project_id != self.project_id:
            raise NotFound("project/notFound", f"No project with id {project_id!r}.")


def operator_token() -> str:
    """The operator token; without one the page does not exist (404)."""
    token = services().settings.ops_token
    if not token:
        abort(404)
    return token


def _sessions(token: str, door: Door = OPS) -> URLSafeTimedSerializer:
    """Signs and reads session values of this door under this token."""
    return URLSafeTimedSerializer(
        token, salt=door.salt, signer_kwargs={"digest_method": hashlib.sha256}
    )


def check_token(given: str) -> str:
    """Take a sign-in attempt of this client address (429 once they are spent), then compare
    the given token in constant time: the token, or Unauthorized `auth/invalid`."""
    token = operator_token()
    limit_sign_in(request.remote_addr or "unknown", services().settings.ops_sign_ins)
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Unauthorized("auth/invalid", "That is not the operator token.")
    return token


def require_operator() -> None:
    """A bearer token or a live session cookie; else Unauthorized `auth/missing`,
    `auth/invalid` or `auth/expired`."""
    token = operator_token()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        check_token(header[7:].strip())
        return
    value = request.cookies.get(COOKIE)
    if value is None:
        code = "auth/invalid" if header else "auth/missing"
        raise Unauthorized(code, SIGN_IN_FIRST)
    try:
        _sessions(token).loads(value, max_age=services().settings.ops_session_seconds)
    except SignatureExpired:
        raise Unauthorized("auth/expired", "The /ops session expired; sign in again.") from None
    except BadSignature:
        raise Unauthorized("auth/invalid", SIGN_IN_FIRST) from None


def check_sign_in(given: str) -> Viewer:
    """The console's sign-in: one attempt of the address's budget, then the operator token
    (compared in constant time) or a live API key; else Unauthorized `auth/invalid`."""
    token = operator_token()
    limit_sign_in(request.remote_addr or "unknown", services().settings.ops_sign_ins)
    if hmac.compare_digest(given.encode(), token.encode()):
        return Viewer()
    with autocommit(services().engine) as connection:
        try:
            key = authenticate_key(connection, given)
        except Unauthorized:
            raise Unauthorized(
                "auth/invalid", "That is neither the operator token nor a live API key."
            ) from None
    return Viewer(key.id, key.project.id)


def require_viewer() -> Viewer:
    """The console's viewer from a bearer (token or key) or a live session cookie whose key, if
    any, is still live; else Unauthorized `auth/missing`, `auth/invalid` or `auth/expired`."""
    token = operator_token()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return check_sign_in(header[7:].strip())
    value = request.cookies.get(CONSOLE.cookie)
    if value is None:
        raise Unauthorized("auth/invalid" if header else "auth/missing", CONSOLE.sign_in_first)
    try:
        lifetime = services().settings.ops_session_seconds
        seen = _sessions(token, CONSOLE).loads(value, max_age=lifetime)
    except SignatureExpired:
        raise Unauthorized("auth/expired", "The session expired; sign in again.") from None
    except BadSignature:
        raise Unauthorized("auth/invalid", CONSOLE.sign_in_first) from None
    if seen == "operator":
        return Viewer()
    with autocommit(services().engine) as connection:
        key = live_key(connection, str(seen))
    return Viewer(key.id, key.project.id)


def start_session(
    response: Response, token: str, door: Door = OPS, viewer: Viewer = Viewer()
) -> Response:
    """Set the door's session cookie (the operator, or the id of the viewer's key, never a
    token or a key): HttpOnly, SameSite=Strict, and Secure when the request came over https
    (behind a proxy, as HERALD_TRUSTED_PROXIES lets Herald see it)."""
    response.set_cookie(
        door.cookie,
        _sessions(token, door).dumps(viewer.key_id or "operator"),
        max_age=int(services().settings.ops_session_seconds),
        path=door.path,
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


def end_session(response: Response, door: Door) -> Response:
    """Clear the door's session cookie."""
    response.delete_cookie(door.cookie, path=door.path, httponly=True, samesite="Strict")
    return response
