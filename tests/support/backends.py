"""The real PostgreSQL and Redis the production-mode tests run on: where they are, whether
they answer, and a fresh database of a test's own."""

from __future__ import annotations

import contextlib
import os
import secrets

import psycopg
import redis
from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("HERALD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST = os.environ.get("HERALD_TEST_REDIS", "redis://127.0.0.1:6379/15")
IN_CI = bool(os.environ.get("CI"))


def backends_down() -> str | None:
    """None when PostgreSQL and Redis answer, else what is down."""
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at {PG_ADMIN}: {exc}"
    try:
        redis.Redis.from_url(REDIS_TEST, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis at {REDIS_TEST}: {exc}"
    return None


@contextlib.contextmanager
def fresh_database(prefix: str):
    """Create an empty PostgreSQL database; drop it on the way out."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
