"""Reading a request: the JSON body, the batch and ids in it, query parameters, the services."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import dramatiq
from flask import current_app, request
from sqlalchemy import Engine
from werkzeug.exceptions import RequestEntityTooLarge

from shared.infra.config import Settings
from shared.infra.errors import HeraldError, UnsupportedMediaType


@dataclass(frozen=True)
class Services:
    """What the app runs on: its settings, database engine and broker."""

    settings: Settings
    engine: Engine
    broker: dramatiq.Broker


def services() -> Services:
    """The services of this app, read at each call so that a swapped one takes effect."""
    held = current_app.extensions["herald"]
    return Services(held["settings"], held["engine"], held["broker"])


_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

# Arrays and objects nested deeper than this are refused before anything walks the value
# (json.loads, the surrogate check below, pydantic, the template context all recurse).
MAX_DEPTH = 64
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_STEPS = tuple(1 if b == ord("[") else -1 if b == ord("]") else 0 for b in range(256))


def _peak(brackets: bytes, depth: int) -> int:
    """The deepest point of a run of brackets entered at `depth`."""
    return max(accumulate(map(_STEPS.__getitem__, brackets), initial=depth))


def _nests_too_deep(raw: bytes) -> bool:
    """True if the brackets outside strings nest deeper than MAX_DEPTH: a scan of the bytes,
    never recursive. Blocks that can't reach the limit are skipped on their counts alone."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    if b"\\" in raw:  # an escaped quote is not the end of a string
        raw = _ESCAPE.sub(b"", raw)
    brackets = b"".join(raw.split(b'"')[::2]).translate(_ONE_KIND, _NOT_BRACKET)
    depth = 0
    for start in range(0, len(brackets), MAX_DEPTH):
        block = brackets[start : start + MAX_DEPTH]
        opens = block.count(b"[")
        if depth + opens > MAX_DEPTH and _peak(block, depth) > MAX_DEPTH:
            return True
        depth += 2 * opens - len(block)
    return False


def _has_lone_surrogate(value: Any) -> bool:
    """True if a string anywhere in the value holds half a surrogate pair (not encodable)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _no_constant(name: str) -> None:
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON value")


def body_bytes() -> bytes:
    """The raw body; 413 past the API's limit, a chunked body too (without a Content-Length,
    Werkzeug stops reading at the limit and says nothing: one more byte tells)."""
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    cut = request.content_length is None and limit is not None and len(raw) >= limit
    if cut and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return raw


def parse_json(raw: bytes) -> Any:
    """A JSON value from a body: UTF-8 strictly, no NaN or Infinity, at most MAX_DEPTH deep."""
    if _nests_too_deep(raw):
        raise HeraldError(
            "body/invalidJson",
            f"The body nests arrays and objects more than {MAX_DEPTH} levels deep; "
            f"Herald takes at most {MAX_DEPTH}.",
        )
    try:
        # Decoded strictly first: json.loads on bytes would take UTF-16 and UTF-8 surrogates.
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HeraldError("body/invalidJson", f"The body is not valid JSON: {exc}.") from None


def json_body(optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object, whatever the content type (the widget sends text/plain);
    `optional`: an empty body is `{}`."""
    raw = body_bytes()
    if optional and not raw.strip():
        return {}
    body = parse_json(raw)
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(body):
        raise HeraldError(
            "body/invalidJson",
            "The body has a \\u escape of half a surrogate pair, which is not a character.",
        )
    if _ESCAPED_NUL.search(raw):
        raise HeraldError(
            "body/invalid",
            "The body contains a NUL character (\\u0000), which Herald does not store.",
        )
    if not isinstance(body, dict):
        raise HeraldError("body/invalid", "The body must be a JSON object.")
    return body


def require_json() -> None:
    """415 unless the body is declared `application/json`: a form or a text/plain body is what
    a page of another site can make a browser send with the cookies of this one (CSRF)."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "body/notJson", "This call takes a JSON body sent as Content-Type: application/json."
        )


def batch(body: dict[str, Any], key: str, limit: int) -> list[Any]:
    """The list under `key`: 1 to `limit` items."""
    items = body.get(key)
    if not isinstance(items, list):
        raise HeraldError(
            "body/invalid", f"The body must have {key!r}, a list of 1 to {limit} items."
        )
    if not items:
        raise HeraldError("batch/empty", f"{key!r} is empty; send 1 to {limit} items.")
    if len(items) > limit:
        raise HeraldError(
            "batch/tooLarge",
            f"{key!r} has {len(items)} items; the limit is {limit}. Split it into smaller batches.",
        )
    return items


def refuse_nul_in_query() -> None:
    """A NUL character can't be stored or compared: refuse it in any query parameter."""
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise HeraldError("query/invalid", "A query parameter contains a NUL character.")


def query_id(name: str = "id") -> str:
    """A required, non-empty query parameter."""
    value = request.args.get(name, "")
    if not value:
        raise HeraldError(f"{name}/required", f"The query parameter {name!r} is required.")
    return value


def body_id(body: dict[str, Any]) -> str:
    """The required string `id` of a body that names one thing."""
    value = body.get("id")
    if value in (None, ""):
        raise HeraldError("id/required", 'The body must be {"id": "<notification id>"}.')
    if not isinstance(value, str):
        raise HeraldError("id/invalid", "id must be a string.")
    return value


def batch_ids(body: dict[str, Any], key: str, limit: int) -> list[str]:
    """The list under `key`: 1 to `limit` non-empty string ids."""
    ids = batch(body, key, limit)
    if not all(isinstance(i, str) and i for i in ids):
        raise HeraldError(f"{key}/invalid", f"{key} must be a list of non-empty strings.")
    return ids
