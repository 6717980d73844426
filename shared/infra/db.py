"""Database engine, transactions for both dialects, and the schema rule: the embedded file
upgrades itself, a production database must be upgraded by `herald db upgrade` first."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg._queries
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, func, make_url
from sqlalchemy.dialects import postgresql, sqlite

from shared.infra.config import Settings

MIGRATIONS = Path(__file__).parent.parent / "migrations"


class SchemaOutdated(Exception):
    """The database schema is older than this code: `herald db upgrade` must run first."""


# Connections beyond one a thread: the sweeper, and a request's budget look-up.
POOL_OVERFLOW = 8
POOL_WAIT = 10  # seconds a thread waits for a free connection before its request answers 503


def _cache_long_queries() -> None:
    """psycopg converts a query's placeholders once per distinct query only when the query is
    short (4 KiB) with few parameters (50); a `users.upsert` of 100 users is one INSERT of about
    1,500 parameters, converted again on every request (a fifth of the web's CPU under that
    load). Its shapes are few, so let psycopg's own cache (128 queries) keep them."""
    queries = psycopg._queries
    queries.MAX_CACHED_STATEMENT_LENGTH = max(queries.MAX_CACHED_STATEMENT_LENGTH, 256 * 1024)
    queries.MAX_CACHED_STATEMENT_PARAMS = max(queries.MAX_CACHED_STATEMENT_PARAMS, 8192)


def pool_size(settings: Settings, threads: int | None = None) -> int:
    """One connection a thread of the process: `threads` when given (the worker process),
    else the web threads, plus the worker threads in the embedded mode's single process."""
    if threads is not None:
        return threads
    return settings.web_threads + (settings.worker_threads if settings.embedded else 0)


def make_engine(settings: Settings, threads: int | None = None) -> Engine:
    """An engine for the dialect, its pool sized from the process's threads: WAL and immediate
    write locks on SQLite; connect, statement and socket timeouts on PostgreSQL."""
    size = pool_size(settings, threads)
    # Statement parameters are personal data (addresses, names): never in a log or an error.
    pool = {
        "pool_size": size,
        "max_overflow": POOL_OVERFLOW,
        "pool_timeout": POOL_WAIT,
        "hide_parameters": True,
    }
    if settings.is_sqlite:
        _create_private_file(make_url(settings.database_url).database)
        engine = create_engine(
            settings.database_url,
            **pool,
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    _cache_long_queries()
    # No pre-ping: it costs a round trip per checkout. A connection found dead is invalidated
    # by SQLAlchemy; that request answers 503 (a delivery is retried by the sweeper).
    return create_engine(settings.database_url, **pool, connect_args=_postgres_timeouts(settings))


def _create_private_file(path: str | None) -> None:
    """Create the SQLite file, and its folder, readable by this user only: it holds every
    project's users and messages. SQLite gives its -wal and -shm files the database file's mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _postgres_timeouts(settings: Settings) -> dict[str, object]:
    """libpq options so that an unreachable or partitioned server fails a request fast (503)
    instead of holding its thread: connect timeout, statement timeout, TCP keepalives and the
    time unacknowledged data may wait."""
    statement_ms = int(settings.db_statement_timeout * 1000)
    return {
        "connect_timeout": max(2, round(settings.db_connect_timeout)),
        "options": f"-c statement_timeout={statement_ms}",
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": statement_ms,
    }


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers run beside the single writer; the busy timeout waits for that writer.
    FULL syncs every commit: with NORMAL an OS crash could lose a committed `sending` claim, and
    that channel would be sent again (the cost is in the README's Reliability section)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock up front so two writers never deadlock upgrading a read lock."""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed on success, rolled back on any exception."""
    with engine.begin() as connection:
        yield connection


@contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection where each statement commits by itself: reads, and single-statement writes,
    without the BEGIN and COMMIT round trips of a transaction."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to this engine's connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not applied yet."""
    command.upgrade(alembic_config(engine), "head")


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutdated unless the database is at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise SchemaOutdated(
            f"The database schema is at {current or 'nothing'}, this Herald needs {head}: "
            "run `herald db upgrade` first."
        )


def ensure_schema(engine: Engine, embedded: bool) -> None:
    """Upgrade the embedded SQLite file in place; raise SchemaOutdated for an old production
    database (its upgrade is a deliberate step, not a side effect of starting a process)."""
    if embedded:
        upgrade(engine)
    else:
        check_schema(engine)


def dialect_insert(connection: Connection):
    """The dialect's INSERT, which knows ON CONFLICT."""
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert


def merge_json(connection: Connection, current, incoming):
    """Top-level merge of two JSON objects, the incoming keys winning."""
    if connection.dialect.name == "postgresql":
        return current.op("||")(incoming)
    return func.json_patch(current, incoming)
