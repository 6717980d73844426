"""Kept-alive HTTP connections to checked addresses (SPEC §9's private-address rule, which the
push providers follow too: their endpoints come from users' devices): one connection per worker
thread and origin, each connected to the address `shared.webhooks.addresses.target` checked,
with the host's name for TLS and `Host`.

A kept-alive connection is used again while its origin's host still passes the check: the
address it connected to was public when it was checked and an address's class never changes,
so a DNS answer that moved to another public address need not cost a new TLS handshake."""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections import OrderedDict

from shared.webhooks.addresses import Target
from shared.webhooks.posting import pinned_connection

MAX_ANSWER = 64 * 1024
# Origins kept open per thread: a handful of push services in practice; an endpoint a user made
# up can't pile up open sockets past this.
MAX_ORIGINS = 8


def dropped(sock) -> bool:
    """True when an idle connection is readable: the server closed it (as aws._dropped)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class KeptAlive:
    """Each thread's connections, by origin, least recently used first."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def _pool(self) -> OrderedDict[tuple[str, str, int], http.client.HTTPConnection]:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = OrderedDict()
        return pool

    def connection(self, target: Target) -> http.client.HTTPConnection:
        """This thread's connection to the target's origin, connected: the one kept, or a new
        one when there is none or the server closed it (OSError when it can't connect)."""
        pool, origin = self._pool(), (target.scheme, target.host, target.port)
        conn = pool.get(origin)
        if conn is not None and (conn.sock is None or dropped(conn.sock)):
            self.drop(target)  # closed while idle: a new one, before anything goes
            conn = None
        if conn is None:
            conn = pinned_connection(target, self.timeout)
            conn.connect()
            # http.client writes the headers and the body apart: without this, Nagle's
            # algorithm holds the body until the server's delayed ACK, 40 ms a push.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pool[origin] = conn
            while len(pool) > MAX_ORIGINS:
                pool.popitem(last=False)[1].close()
        pool.move_to_end(origin)
        return conn

    def drop(self, target: Target) -> None:
        """Close this thread's connection to the target's origin."""
        conn = self._pool().pop((target.scheme, target.host, target.port), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close every connection of this thread."""
        pool = self._pool()
        while pool:
            pool.popitem()[1].close()


def read_capped(response: http.client.HTTPResponse, timeout: float) -> bytes:
    """The answer's body, at most MAX_ANSWER bytes, within `timeout` s; the rest is dropped
    (the caller then drops the connection)."""
    deadline, chunks, size = time.monotonic() + timeout, [], 0
    while size < MAX_ANSWER and time.monotonic() < deadline:
        if response.length == 0:
            response.read()  # marks it read: the connection may carry the next request
            break
        chunk = response.read1(MAX_ANSWER - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
