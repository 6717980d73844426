"""`herald providers test`: one real message through one of a project's providers, alone (no
chain, no failover), and its outcome as the delivery would classify it."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic_core import PydanticCustomError
from sqlalchemy import Engine, select

from shared.infra import Settings
from shared.infra.errors import HeraldError
from shared.infra.models import projects
from shared.infra.validation import check_email, check_telephone
from shared.providers.health import effective_chains
from shared.providers.store import find_provider
from shared.providers.urls import ProviderUrl, ProviderUrlError
from worker.providers import Email, ProviderError, Sms, build_provider, send_with_retries

SUBJECT = "Herald provider test"
TEXT = "This is a test message from Herald: the provider {name} of project {project} works."


def _project(engine: Engine, project_id: str):
    with engine.connect() as connection:
        row = connection.execute(select(projects).where(projects.c.id == project_id)).first()
    if row is None:
        raise HeraldError("project/notFound", f"There is no project {project_id!r}.")
    return row


def _content(channel: str, to: str, project, name: str) -> Email | Sms:
    """The test message for the channel, to an address checked as the API checks one."""
    message_id = f"test-{secrets.token_hex(8)}"
    text = TEXT.format(name=name, project=project.id)
    check = check_email if channel == "email" else check_telephone
    try:
        to = check(to)
    except PydanticCustomError as exc:
        raise HeraldError("to/invalid", str(exc)) from None
    if channel == "sms":
        return Sms(message_id, to, text, project.sms_sender_id)
    if not project.email_from:
        raise HeraldError(
            "emailFrom/missing", "The project has no From address: set it with `herald project`."
        )
    return Email(
        message_id, to, project.email_from, project.email_from_name, None, SUBJECT, None, text
    )


def _chain_member(settings: Settings, engine: Engine, project_id: str, name: str) -> ProviderUrl:
    """The project's own provider of this name, else the default chains' of a channel the
    project has no chain of its own for."""
    try:
        return find_provider(engine, settings.secret_keys, project_id, name)
    except ProviderUrlError:
        with engine.connect() as connection:
            chains = effective_chains(connection, settings, project_id)
        for urls, scope in chains.values():
            for url in urls if scope == "default" else ():
                if url.name == name:
                    return url
        raise


def send_test(
    settings: Settings, engine: Engine, project_id: str, name: str, to: str
) -> dict[str, Any]:
    """Send it; {"status": "sent", "providerMessageId"} or {"status": "failed"|"unknown",
    "error", "failover"}: whether a chain would have tried its next provider."""
    project = _project(engine, project_id)
    url = _chain_member(settings, engine, project_id, name)
    content = _content(url.channel, to, project, name)
    provider = build_provider(settings, url)
    try:
        provider_id = send_with_retries(provider, content, settings.provider_retry_budget)
    except ProviderError as error:
        status = "unknown" if error.unknown else "failed"
        return {"status": status, "error": str(error), "failover": error.failover}
    finally:
        provider.close()
    return {"status": "sent", "providerMessageId": provider_id}
