"""Adding, listing and removing a project's own providers (SPEC §8); nothing is stored on a
refusal, which names the wrong part (ProviderUrlError.part)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from shared.infra.models import project_providers as t
from shared.infra.models import projects
from shared.infra.secrets import SecretBox, is_sealed, secret_box
from shared.providers.urls import ProviderUrl, ProviderUrlError, parse_provider_url

MAX_PRIORITY = 1_000_000
# A name shows in results, logs, metrics and the command line: short, no spaces or markup.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _require_project(c: Connection, project_id: str) -> None:
    """Refuse an unknown project."""
    if c.scalar(select(projects.c.id).where(projects.c.id == project_id)) is None:
        raise ProviderUrlError("project", f"There is no project {project_id!r}.")


def _check_name(name: str | None) -> None:
    """Refuse a name that does not fit (the kind's name is the default, and fits)."""
    if name is not None and not NAME.fullmatch(name):
        raise ProviderUrlError(
            "name",
            "A provider's name has 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
        )


def _priority(c: Connection, project_id: str, channel: str, name: str, priority: int | None) -> int:
    """The priority to store, refusing an unknown project or a name already taken."""
    _require_project(c, project_id)
    taken = select(t.c.pk).where(t.c.project_id == project_id, t.c.name == name)
    if c.scalar(taken) is not None:
        raise ProviderUrlError("name", f"The project already has a provider named {name!r}.")
    if priority is None:
        last = c.scalar(
            select(func.max(t.c.priority)).where(
                t.c.project_id == project_id, t.c.channel == channel
            )
        )
        priority = 0 if last is None else last + 1
    return priority


def add_provider(
    engine: Engine,
    keys: tuple[str, ...],
    project_id: str,
    channel: str,
    url: str,
    name: str | None = None,
    priority: int | None = None,
) -> dict:
    """Stores one provider at the end of the channel's chain (or at `priority`)."""
    _check_name(name)
    parsed = parse_provider_url(channel, url, name)
    if parsed.secret and not keys:
        raise ProviderUrlError(
            "url",
            "This URL carries a secret and HERALD_SECRET_KEY is not set: "
            "set it (`herald secrets new-key` prints one) to store it sealed.",
        )
    if priority is not None and not 0 <= priority <= MAX_PRIORITY:
        raise ProviderUrlError(
            "priority", f"The priority must be an integer from 0 to {MAX_PRIORITY}."
        )
    stored = secret_box(tuple(keys)).seal(url) if parsed.secret else url
    with engine.begin() as c:
        priority = _priority(c, project_id, channel, parsed.name, priority)
        c.execute(
            insert(t).values(
                project_id=project_id,
                channel=channel,
                name=parsed.name,
                priority=priority,
                kind=parsed.kind,
                url=stored,
                created_at=datetime.now(UTC),
            )
        )
    return {"name": parsed.name, "channel": channel, "priority": priority, "url": parsed.masked}


def list_providers(engine: Engine, keys: tuple[str, ...], project_id: str) -> list[dict]:
    """The project's providers, chain order, secrets masked."""
    box = secret_box(tuple(keys))
    with engine.connect() as c:
        _require_project(c, project_id)
        rows = c.execute(
            select(t.c.channel, t.c.name, t.c.priority, t.c.url)
            .where(t.c.project_id == project_id)
            .order_by(t.c.channel, t.c.priority, t.c.pk)
        ).all()
    return [
        {
            "channel": ch,
            "name": n,
            "priority": p,
            "url": parse_provider_url(ch, box.open(u), n).masked,
        }
        for ch, n, p, u in rows
    ]


def remove_provider(engine: Engine, project_id: str, name: str) -> None:
    """Removes one provider by name."""
    with engine.begin() as c:
        _require_project(c, project_id)
        gone = c.execute(delete(t).where(t.c.project_id == project_id, t.c.name == name))
        if gone.rowcount == 0:
            raise ProviderUrlError(
                "name", f"Project {project_id!r} has no provider named {name!r}."
            )


def find_provider(engine: Engine, keys: tuple[str, ...], project_id: str, name: str) -> ProviderUrl:
    """One of the project's providers by name, its URL opened (to send through it)."""
    with engine.connect() as c:
        _require_project(c, project_id)
        row = c.execute(
            select(t.c.channel, t.c.url).where(t.c.project_id == project_id, t.c.name == name)
        ).first()
    if row is None:
        raise ProviderUrlError("name", f"Project {project_id!r} has no provider named {name!r}.")
    return parse_provider_url(row.channel, secret_box(tuple(keys)).open(row.url), name)


def reseal_provider_urls(connection: Connection, box: SecretBox) -> int:
    """Rewrites every sealed provider URL under the box's first key; how many were."""
    rows = connection.execute(select(t.c.pk, t.c.url)).all()
    sealed = [(pk, url) for pk, url in rows if is_sealed(url)]
    for pk, url in sealed:
        connection.execute(update(t).where(t.c.pk == pk).values(url=box.reseal(url)))
    return len(sealed)
