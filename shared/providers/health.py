"""Each provider of one project's chains (its own for a channel, else the operator's default)
with its circuit's health, as the console's Providers page shows it (SPEC §11)."""

from __future__ import annotations

from sqlalchemy import Connection

from shared.infra.config import Settings
from shared.providers.chains import project_chains
from shared.providers.circuit import build_breaker, circuit_key
from shared.providers.urls import ProviderUrl


def effective_chains(
    connection: Connection, settings: Settings, project_id: str
) -> dict[str, tuple[tuple[ProviderUrl, ...], str]]:
    """Each channel's chain as the project's sends use it, and its circuits' scope: the
    project's own (scope its id), else the default (scope `default`)."""
    own = project_chains(connection, project_id, settings.secret_keys, unreadable={})
    chains = {channel: (urls, "default") for channel, urls in settings.chains.items()}
    return chains | {channel: (urls, project_id) for channel, urls in own.items()}


def project_health(connection: Connection, settings: Settings, project_id: str) -> list[dict]:
    """Each provider of the project's chains, chain order, with `provider_health`'s figures."""
    members = [
        (url, scope, circuit_key(scope, channel, url.name))
        for channel, (urls, scope) in effective_chains(connection, settings, project_id).items()
        for url in urls
    ]
    try:
        figures = build_breaker(settings).health([key for _, _, key in members])
    except Exception:  # noqa: BLE001 - Redis unreachable: the page still shows the chains
        figures = {}
    return [
        {
            "channel": url.channel,
            "name": url.name,
            "kind": url.kind,
            "url": url.masked,
            "own": scope != "default",
            **figures.get(key, {"state": "unknown"}),
        }
        for url, scope, key in members
    ]
