"""Reading a request: the JSON body, the batch and ids in it, query parameters, the services."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import dramatiq
from flask import current_app, request
from sqlalchemy import Engine

from shared.infra.config import Settings
from shared.infra.errors import HeraldError


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


def json_body() -> dict[str, Any]:
    """The body as a JSON object, whatever the content type (the widget sends text/plain)."""
    raw = request.get_data(cache=False)
    try:
        # Decoded strictly first: json.loads on bytes would take UTF-16 and UTF-8 surrogates.
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HeraldError("body/invalidJson", f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise HeraldError("body/invalidJson", "The body nests too deeply.") from None
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
