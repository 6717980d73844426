"""Which chain a message's channel goes through: its project's own (`herald providers add`),
else the operator's default from the environment (SPEC §8). A process reads a project's chains
at most once every `FRESH_FOR` s, and keeps each provider it built (with its kept-alive
connections) for as long as the project's chain names it with the same URL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection

from shared.infra import Settings
from shared.providers.chains import project_chains
from shared.providers.urls import ProviderUrl
from worker.providers import build_provider
from worker.providers.base import Provider, ProviderError
from worker.providers.chain import Chain

log = logging.getLogger("herald.delivery")
FRESH_FOR = 5.0  # how long a project's chains are used before they are read again
MOST_PROJECTS = 4096  # projects whose chains a process keeps; past it, the oldest go


class Unreadable(Provider):
    """A project's provider whose stored URL no key of HERALD_SECRET_KEY opens: its channel
    fails with that sentence rather than go through another account's providers."""

    kind = "unreadable"

    def __init__(self, settings: Settings, channel: str, reason: str) -> None:
        self.settings, self.url, self.name = settings, None, "unreadable"
        self.reason = reason

    def send(self, content, posting: Callable[[], object] = lambda: None) -> str:
        raise ProviderError("provider/unreadable", self.reason)


class ChainBook:
    """Each project's chains by channel, cached per process."""

    def __init__(
        self,
        settings: Settings,
        defaults: dict[str, Chain],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.defaults, self.clock = settings, defaults, clock
        self._lock = threading.Lock()
        self._read: dict[str, tuple[float, dict[str, Chain]]] = {}
        self._built: dict[tuple[str, str], Provider] = {}  # (project, URL as stored) -> provider

    def chains(self, connection: Connection, project_id: str) -> dict[str, Chain]:
        """The project's chain of each channel, read again once `FRESH_FOR` s old."""
        now = self.clock()
        with self._lock:
            read = self._read.get(project_id)
        if read is not None and now - read[0] < FRESH_FOR:
            return read[1]
        chains = self._chains(connection, project_id)
        with self._lock:
            if len(self._read) >= MOST_PROJECTS:
                self._read.pop(next(iter(self._read)))
            self._read[project_id] = (now, chains)
        return chains

    def _chains(self, connection: Connection, project_id: str) -> dict[str, Chain]:
        unreadable: dict[str, str] = {}
        own = project_chains(connection, project_id, self.settings.secret_keys, unreadable)
        chains = dict(self.defaults)
        for channel, urls in own.items():
            members = [self._provider(project_id, url) for url in urls]
            chains[channel] = Chain(channel, members, scope=project_id)
        for channel, reason in unreadable.items():
            log.error("project %s: a %s provider can't be read: %s", project_id, channel, reason)
            if channel not in own:  # nothing else of its own to send through
                chains[channel] = Chain(channel, [Unreadable(self.settings, channel, reason)])
        return chains

    def _provider(self, project_id: str, url: ProviderUrl) -> Provider:
        """The provider of this project's URL, built once while the URL stays the same."""
        key = (project_id, f"{url.name} {url.url}")
        with self._lock:
            provider = self._built.get(key)
        if provider is None:
            provider = build_provider(self.settings, url)
            with self._lock:
                if len(self._built) >= MOST_PROJECTS:
                    self._built.pop(next(iter(self._built)))
                self._built[key] = provider
        return provider
