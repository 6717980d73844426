"""A project's allowed e-mail senders (SPEC §1, §3): addresses and domains it may send from."""

# A sender is compared in one form: an address `local@domain` or a bare domain, the domain in
# IDNA ASCII (`bücher.example` -> `xn--bcher-kva.example`), all lower case. An allowed domain
# allows every address at exactly that domain, not at its subdomains.

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, delete, select

from shared.infra.db import dialect_insert
from shared.infra.errors import HeraldError, NotFound
from shared.infra.models import allowed_senders, projects, utcnow

NOT_ALLOWED = "template/senderNotAllowed"


def sending_address(address: str) -> str:
    """The address as providers take it: its domain in IDNA ASCII (SES refuses Unicode)."""
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise HeraldError(
            "sender/invalid", f"{address!r} is not an e-mail address: {exc}"
        ) from None
    return f"{valid.local_part}@{valid.ascii_domain}"


def sender_form(value: str) -> str:
    """An address or a domain in the form compared and stored (see the module's comment)."""
    value = value.strip()
    if "@" in value:
        return sending_address(value).lower()
    try:
        return validate_email(
            f"postmaster@{value}", check_deliverability=False
        ).ascii_domain.lower()
    except EmailNotValidError as exc:
        raise HeraldError(
            "sender/invalid", f"{value!r} is neither an e-mail address nor a domain: {exc}"
        ) from None


def _require_project(connection: Connection, project_id: str) -> None:
    if connection.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is None:
        raise NotFound("project/notFound", f"No project with id {project_id!r}.")


def add_sender(connection: Connection, project_id: str, value: str) -> str:
    """Allow an address or a domain (idempotent); its stored form."""
    sender = sender_form(value)
    _require_project(connection, project_id)
    statement = dialect_insert(connection)(allowed_senders).values(
        project_id=project_id, sender=sender, created_at=utcnow()
    )
    connection.execute(statement.on_conflict_do_nothing())
    return sender


def remove_sender(connection: Connection, project_id: str, value: str) -> bool:
    """Stop allowing an address or a domain; False when it was not allowed."""
    result = connection.execute(
        delete(allowed_senders).where(
            allowed_senders.c.project_id == project_id,
            allowed_senders.c.sender == sender_form(value),
        )
    )
    return result.rowcount == 1


def list_senders(connection: Connection, project_id: str) -> list[str]:
    """The project's allowed senders, sorted."""
    _require_project(connection, project_id)
    return list(
        connection.execute(
            select(allowed_senders.c.sender)
            .where(allowed_senders.c.project_id == project_id)
            .order_by(allowed_senders.c.sender)
        ).scalars()
    )


def is_allowed(allowed: set[str], address: str) -> bool:
    """True when the address, or its whole domain, is among the allowed senders."""
    form = sender_form(address)
    return form in allowed or form.rpartition("@")[2] in allowed


def not_allowed(where: str, address: str) -> HeraldError:
    """`template/senderNotAllowed`, naming where the address was given."""
    return HeraldError(
        NOT_ALLOWED,
        f"{where} {address!r} is not an allowed sender of this project: use the project's "
        "default From or an address or domain an operator allowed with `herald senders add`.",
    )


def check_template_senders(
    connection: Connection, project_id: str, templates: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The templates with each `from` in its sending form; 400 `template/senderNotAllowed`
    naming the language and the address when one is not allowed."""
    wanted = [
        (language, channels["email"]["from"])
        for language, channels in templates.items()
        if "from" in channels.get("email", {})
    ]
    if not wanted:
        return templates
    allowed = set(list_senders(connection, project_id))
    checked = {language: dict(channels) for language, channels in templates.items()}
    for language, address in wanted:
        if not is_allowed(allowed, address):
            raise not_allowed(f"templates.{language}.email.from", address)
        email = {**checked[language]["email"], "from": sending_address(address)}
        checked[language]["email"] = email
    return checked
