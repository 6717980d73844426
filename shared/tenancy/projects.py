"""Projects (tenants), their API keys and widget secrets: keys are shown once and stored as
SHA-256 hashes; widget secrets are stored sealed (shared.infra.secrets) and rotate with a grace
period during which the previous one is valid too."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, insert, select, update

from shared.infra.errors import NotFound, Unauthorized
from shared.infra.models import api_keys, projects, utcnow
from shared.infra.secrets import SecretBox

KEY_PREFIX = "hk_"


@dataclass(frozen=True)
class Project:
    """The project a request acts for."""

    id: str
    name: str
    email_from: str | None
    email_from_name: str | None
    sms_sender_id: str | None


def hash_key(key: str) -> str:
    """The stored form of an API key; keys are 256-bit random, so a plain hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_project(
    connection: Connection,
    name: str,
    email_from: str | None = None,
    email_from_name: str | None = None,
    sms_sender_id: str | None = None,
    *,
    box: SecretBox = SecretBox(),
) -> dict[str, str]:
    """Create a project with its first key: `{"projectId", "apiKey", "widgetSecret"}`; the
    widget secret is stored sealed in `box`."""
    project_id = "prj_" + secrets.token_hex(12)
    widget_secret = new_widget_secret()
    connection.execute(
        insert(projects).values(
            id=project_id,
            name=name,
            widget_secret=box.seal(widget_secret),
            email_from=email_from,
            email_from_name=email_from_name,
            sms_sender_id=sms_sender_id,
            created_at=utcnow(),
        )
    )
    if email_from:
        from shared.tenancy.senders import add_sender  # the default From is an allowed sender

        add_sender(connection, project_id, email_from)
    return {
        "projectId": project_id,
        "apiKey": create_key(connection, project_id),
        "widgetSecret": widget_secret,
    }


def new_widget_secret() -> str:
    """A new widget secret: 256 random bits in hex."""
    return secrets.token_hex(32)


def create_key(connection: Connection, project_id: str) -> str:
    """A new API key of the project, returned once in clear."""
    if connection.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is None:
        raise NotFound("project/notFound", f"No project with id {project_id!r}.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    connection.execute(
        insert(api_keys).values(
            id="key_" + secrets.token_hex(8),
            project_id=project_id,
            key_hash=hash_key(key),
            created_at=utcnow(),
        )
    )
    return key


def revoke_key(connection: Connection, key: str) -> bool:
    """Revoke a key; False when no live key matches."""
    result = connection.execute(
        update(api_keys)
        .where(api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount == 1


def authenticate(connection: Connection, key: str) -> Project:
    """The project of a live API key, or 401 `auth/invalid`."""
    return authenticate_key(connection, key).project


@dataclass(frozen=True)
class LiveKey:
    """A live API key: its id (never the key) and its project."""

    id: str
    project: Project


def authenticate_key(connection: Connection, key: str) -> LiveKey:
    """The id and project of a live API key, or 401 `auth/invalid`."""
    digest = hash_key(key)
    row = connection.execute(
        select(api_keys.c.id.label("key_id"), api_keys.c.key_hash, api_keys.c.revoked_at, projects)
        .join(projects, projects.c.id == api_keys.c.project_id)
        .where(api_keys.c.key_hash == digest)
    ).first()
    # The look-up is by hash; the constant-time compare keeps the check itself timing-safe.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
        raise Unauthorized("auth/invalid", "The API key is unknown or revoked.")
    return LiveKey(row.key_id, _project(row))


def live_key(connection: Connection, key_id: str) -> LiveKey:
    """A key by its id while it is live (a console session checks its key on each request), or
    401 `auth/invalid` once it is revoked."""
    row = connection.execute(
        select(api_keys.c.id.label("key_id"), projects)
        .join(projects, projects.c.id == api_keys.c.project_id)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized("auth/invalid", "The API key of this session was revoked.")
    return LiveKey(row.key_id, _project(row))


def list_projects(connection: Connection) -> list[Project]:
    """Every project, by name (the operator's console shows them all)."""
    rows = connection.execute(select(projects).order_by(projects.c.name, projects.c.id)).all()
    return [_project(row) for row in rows]


def _project(row) -> Project:
    """A project from a row holding its columns."""
    return Project(row.id, row.name, row.email_from, row.email_from_name, row.sms_sender_id)


def load_project(connection: Connection, project_id: str) -> Project:
    """A project by id (for the workers)."""
    row = connection.execute(select(projects).where(projects.c.id == project_id)).first()
    if row is None:
        raise NotFound("project/notFound", f"No project with id {project_id!r}.")
    return _project(row)


def widget_secrets(connection: Connection, box: SecretBox, project_id: str) -> tuple[str, ...]:
    """The widget secrets a user HMAC may be made with now: the current one, and the previous
    one until its grace period ends; none for an unknown project."""
    row = connection.execute(
        select(
            projects.c.widget_secret,
            projects.c.previous_widget_secret,
            projects.c.previous_widget_secret_expires_at,
        ).where(projects.c.id == project_id)
    ).first()
    if row is None:
        return ()
    valid = [row.widget_secret]
    expires = row.previous_widget_secret_expires_at
    if row.previous_widget_secret and expires is not None and utcnow() < expires:
        valid.append(row.previous_widget_secret)
    return tuple(box.open(stored) for stored in valid)


def rotate_widget_secret(
    connection: Connection, box: SecretBox, project_id: str, grace: timedelta
) -> str:
    """Give the project a new widget secret, returned once in clear; HMACs made with the one it
    replaces stay valid for `grace` (an older previous secret ends at once)."""
    current = connection.execute(
        select(projects.c.widget_secret).where(projects.c.id == project_id).with_for_update()
    ).scalar()
    if current is None:
        raise NotFound("project/notFound", f"No project with id {project_id!r}.")
    widget_secret = new_widget_secret()
    connection.execute(
        update(projects)
        .where(projects.c.id == project_id)
        .values(
            widget_secret=box.seal(widget_secret),
            previous_widget_secret=box.reseal(current) if grace > timedelta(0) else None,
            previous_widget_secret_expires_at=utcnow() + grace if grace > timedelta(0) else None,
        )
    )
    return widget_secret


def reseal_secrets(connection: Connection, box: SecretBox) -> int:
    """Rewrite every stored widget secret sealed under the box's first key (plaintext ones and
    ones under an older key included); how many projects were rewritten."""
    rows = connection.execute(
        select(projects.c.id, projects.c.widget_secret, projects.c.previous_widget_secret)
    ).all()
    for row in rows:
        previous = row.previous_widget_secret
        connection.execute(
            update(projects)
            .where(projects.c.id == row.id)
            .values(
                widget_secret=box.reseal(row.widget_secret),
                previous_widget_secret=box.reseal(previous) if previous else None,
            )
        )
    from shared.providers.store import reseal_provider_urls
    from shared.webhooks.endpoints import reseal_webhook_secrets

    reseal_provider_urls(connection, box)
    reseal_webhook_secrets(connection, box)
    return len(rows)
