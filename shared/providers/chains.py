"""A project's own provider chains (SPEC §8): stored per project and channel, secrets sealed
with HERALD_SECRET_KEY; a project without one for a channel uses the operator's default
chain from the environment."""

from __future__ import annotations

from sqlalchemy import Connection, select

from shared.infra.config import ConfigError
from shared.infra.models import project_providers
from shared.infra.secrets import secret_box
from shared.providers.urls import ProviderUrl, ProviderUrlError, parse_provider_url


def project_chains(
    connection: Connection,
    project_pk: str,
    keys: tuple[str, ...] = (),
    unreadable: dict[str, str] | None = None,
) -> dict[str, tuple[ProviderUrl, ...]]:
    """The project's own chains by channel, first tried first (a channel it has none for is
    absent: the default chain applies). `keys` are HERALD_SECRET_KEY's, to open sealed URLs.
    A stored URL that can't be opened (its key left HERALD_SECRET_KEY) raises, or, given
    `unreadable`, is left out and its channel's entry there says why."""
    t = project_providers
    rows = connection.execute(
        select(t.c.channel, t.c.name, t.c.url)
        .where(t.c.project_id == project_pk)
        .order_by(t.c.priority, t.c.pk)
    )
    box = secret_box(tuple(keys))
    chains: dict[str, list[ProviderUrl]] = {}
    for channel, name, stored in rows:
        try:
            url = parse_provider_url(channel, box.open(stored), name)
        except (ConfigError, ProviderUrlError) as error:
            if unreadable is None:
                raise
            unreadable[channel] = f"{name}: {error}"
            continue
        chains.setdefault(channel, []).append(url)
    return {channel: tuple(urls) for channel, urls in chains.items()}
