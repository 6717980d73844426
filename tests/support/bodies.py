"""Request bodies of an exact size or depth, for the tests of how a body is read."""

from __future__ import annotations


def users_body(size: int) -> bytes:
    """A `users.upsert` body of exactly `size` bytes."""
    head, tail = b'{"users": [{"id": "big", "data": {"pad": "', b'"}}]}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def nested(depth: int, inner: str = '"x"') -> str:
    """A `users.upsert` body nested `depth` deep: body, users, the user, data, then arrays."""
    arrays = depth - 4
    return '{"users": [{"id": "deep", "data": {"a": ' + "[" * arrays + inner + "]" * arrays + "}}]}"
