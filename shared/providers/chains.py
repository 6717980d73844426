"""A project's own provider chains (SPEC §8): stored per project and channel, secrets sealed
with HERALD_SECRET_KEY; a project without one for a channel uses the operator's default
chain from the environment."""

from __future__ import annotations

from sqlalchemy import Connection

from shared.providers.urls import ProviderUrl


def project_chains(connection: Connection, project_pk: int) -> dict[str, tuple[ProviderUrl, ...]]:
    """The project's own chains by channel, first tried first (a channel it has none for is
    absent: the default chain applies)."""
    return {}
