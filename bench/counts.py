"""Commands per delivered message: Redis commands on the bench's DB (MONITOR), by the process
that sent them, and PostgreSQL transactions, scans and row writes (statistics deltas)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING

import psycopg
import redis

from bench.figures import message_runs
from bench.memory import PROC, descendants
from bench.production import REDIS_URL, Production
from bench.report import PROD, Row

if TYPE_CHECKING:
    from bench.figures import Bench

# A PostgreSQL 15 backend reports its statistics at most once a second while busy, and within
# 10 s of going idle: the deltas are read after that long without load.
SETTLE = 11.0
END = "herald-bench-counts-end"  # echoed on the DB when the measured runs are over
MONITOR_LINE = re.compile(r'\S+ \[(\d+) ([^\]]*)\] "([^"]*)"')
STATISTICS = (
    "SELECT d.xact_commit + d.xact_rollback, d.tup_inserted + d.tup_updated + d.tup_deleted, "
    "(SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables) "
    "FROM pg_stat_database d WHERE d.datname = current_database()"
)
PG_ROWS = (
    ("transactions", "commits + rollbacks; an autocommitted statement is one"),
    ("rows written", "rows inserted + updated + deleted"),
    ("table scans", "index + sequential scans of Herald's tables, about one a statement"),
)


def socket_roles(roots: dict[str, int]) -> dict[int, str]:
    """The local TCP port of every socket the process trees (`{"web": pid}`) hold, to its role."""
    inodes: dict[str, str] = {}
    for role, root in roots.items():
        for pid in descendants(root):
            folder = PROC / str(pid) / "fd"
            try:
                links = [os.readlink(folder / fd) for fd in os.listdir(folder)]
            except OSError:
                continue
            inodes.update({link[8:-1]: role for link in links if link.startswith("socket:[")})
    ports: dict[int, str] = {}
    for table in ("tcp", "tcp6"):
        for line in (PROC / "net" / table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports[int(fields[1].rsplit(":", 1)[1], 16)] = inodes[fields[9]]
    return ports


class RedisCounter:
    """While open, every command run on one Redis DB: by (role, command) for those clients
    sent, with the role from `roots` (`"other"` when unknown), and `"script"` for those run
    inside Lua scripts."""

    def __init__(self, url: str, roots: dict[str, int]) -> None:
        self.url, self.roots = url, roots
        self.db = redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0)
        self.ports: Counter[tuple[str, str]] = Counter()
        self.commands: Counter[tuple[str, str]] = Counter()

    def __enter__(self) -> RedisCounter:
        self.monitor = redis.Redis.from_url(self.url).monitor()
        self.monitor.__enter__()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()
        return self

    def _listen(self) -> None:
        connection = self.monitor.connection
        while True:
            line = connection.read_response()
            if isinstance(line, bytes):
                line = line.decode(errors="replace")
            found = MONITOR_LINE.match(line)
            if found is None or int(found[1]) != self.db:
                continue
            client, command = found[2], found[3].upper()
            if command == "ECHO" and END in line:
                return
            self.ports[(client, command)] += 1

    def __exit__(self, *_exc) -> None:
        redis.Redis.from_url(self.url).echo(END)
        self.thread.join(60)
        roles = socket_roles(self.roots)
        for (client, command), count in self.ports.items():
            port = client.rsplit(":", 1)[-1]
            role = "script" if client == "lua" else roles.get(int(port or 0), "other")
            self.commands[(role, command)] += count
        self.monitor.__exit__()


class PostgresCounter:
    """Transactions, rows written and table scans of one database while open, each read after
    `SETTLE` idle seconds so that every backend has reported them."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.totals: dict[str, int] = {}

    def _read(self) -> dict[str, int]:
        time.sleep(SETTLE)
        with psycopg.connect(self.database_url) as connection:  # one transaction
            values = connection.execute(STATISTICS).fetchone()
        return {name: int(value) for (name, _), value in zip(PG_ROWS, values, strict=True)}

    def __enter__(self) -> PostgresCounter:
        self.before = self._read()
        return self

    def __exit__(self, *_exc) -> None:
        after = self._read()
        self.totals = {name: after[name] - self.before[name] for name in after}


def counts(bench: Bench, prod: Production) -> None:
    """The throughput load at provider latency 0, with every Redis command and PostgreSQL
    transaction counted, per delivered message."""
    prod.ensure_standin(0.0)
    postgres = PostgresCounter(prod.database_url)
    commands = RedisCounter(REDIS_URL, {"web": prod.web.pid, "worker": prod.worker.pid})
    runs = message_runs(bench, prod.base_url, prod.project["apiKey"], "cnt", (postgres, commands))
    delivered = max(sum(run["done"] for run in runs), 1)
    _redis_rows(bench, commands.commands, delivered)
    for name, note in PG_ROWS:
        per = postgres.totals[name] / delivered
        row = Row(f"PostgreSQL {name} per message", PROD, per, per, "per msg", note=note)
        bench.rows.append(row)
    bench.sections.append(_breakdown(commands.commands, delivered))


def _redis_rows(bench: Bench, commands: Counter[tuple[str, str]], delivered: int) -> None:
    """Redis commands per message: those each role sent (round trips), those run in scripts."""
    by_role = Counter()
    for (role, _command), count in commands.items():
        by_role[role] += count
    notes = {
        "web": "sent by gunicorn's processes: one round trip each (or a pipeline's part)",
        "worker": "sent by dramatiq's processes, idle polls included",
        "script": "run inside Lua scripts (dramatiq's), no round trip of their own",
        "other": "sent by connections closed before the end of the runs",
    }
    for role, note in notes.items():
        if role in by_role or role != "other":
            per = by_role[role] / delivered
            name = "run in scripts" if role == "script" else f"sent by {role}"
            bench.rows.append(
                Row(f"Redis commands per message, {name}", PROD, per, per, "per msg", note=note)
            )


def _breakdown(commands: Counter[tuple[str, str]], delivered: int) -> str:
    """Redis commands per delivered message, by role and command, as a Markdown table."""
    lines = [
        f"Redis commands per delivered message ({delivered:,} messages, MONITOR on the "
        "bench's DB during the throughput load, provider 0 ms):",
        "",
        "| by | command | per message |",
        "|---|---|---:|",
    ]
    for (role, command), count in sorted(commands.items(), key=lambda item: -item[1]):
        lines.append(f"| {role} | {command} | {count / delivered:.2f} |")
    return "\n".join(lines)
