"""Who may use `/ops`: the operator token (HERALD_OPS_TOKEN) as a bearer, or the session
cookie that signing in with it sets.

The cookie holds a value signed with the token and timestamped (itsdangerous, which Flask
ships): it expires after HERALD_OPS_SESSION_SECONDS, stops working when the token changes, and
never holds the token. Every check of a presented token, right or wrong, takes one attempt from
the client address's sign-in budget (HERALD_OPS_SIGN_INS a minute): a throttle that let a
right token through while it refused wrong ones would tell a guesser which guess was right.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Response, abort, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from api.http.ratelimit import limit_sign_in
from api.http.requests import services
from shared.infra.errors import Unauthorized

COOKIE = "herald_ops"
_SALT = "herald ops session"
SIGN_IN_FIRST = "Sign in to /ops with the operator token first."


def operator_token() -> str:
    """The operator token; without one the page does not exist (404)."""
    token = services().settings.ops_token
    if not token:
        abort(404)
    return token


def _sessions(token: str) -> URLSafeTimedSerializer:
    """Signs and reads session values under this token."""
    return URLSafeTimedSerializer(
        token, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
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


def start_session(response: Response, token: str) -> Response:
    """Set the session cookie: HttpOnly, SameSite=Strict, and Secure when the request came
    over https (behind a proxy, as HERALD_TRUSTED_PROXIES lets Herald see it)."""
    response.set_cookie(
        COOKIE,
        _sessions(token).dumps("operator"),
        max_age=int(services().settings.ops_session_seconds),
        path="/ops",
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response
