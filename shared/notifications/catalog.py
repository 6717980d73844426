"""Notifications: what channels a message goes to and the templates of each language."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
)
from sqlalchemy import Connection, delete, select

from shared.channels import API_ORDER, Channel
from shared.infra.db import dialect_insert
from shared.infra.errors import HeraldError, not_found
from shared.infra.models import notifications, utcnow
from shared.infra.validation import Language, Name, check_language, item_error
from shared.notifications.quiet_hours import QuietHours
from shared.templating.isolated import check_templates
from shared.tenancy.senders import check_template_senders

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
DEFAULT_STACK_TIMEOUT = 86_400
STRICT = ConfigDict(strict=True, extra="forbid")


def _whole(value: Any) -> Any:
    """A whole number written with a fraction (`3600.0`) is that integer, as in JSON Schema."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Seconds = Annotated[int, BeforeValidator(_whole), Field(ge=0, le=31_536_000)]


def _template_model(channel: Channel) -> type[BaseModel]:
    """The model of one channel's template, from its declared fields."""
    fields: dict[str, Any] = {
        f.attribute: (f.kind | None, Field(None, alias=f.name) if f.attribute != f.name else None)
        for f in channel.fields
    }
    name = f"{channel.declared.title.capitalize()}Template"
    doc = f"The template of the {channel} channel in one language."
    return create_model(name, __config__=STRICT, __doc__=doc, **fields)


TEMPLATE_MODELS = {channel: _template_model(channel) for channel in API_ORDER}
WidgetTemplate = TEMPLATE_MODELS[Channel.WIDGET]
EmailTemplate = TEMPLATE_MODELS[Channel.EMAIL]
PushTemplate = TEMPLATE_MODELS[Channel.PUSH]
LanguageTemplates = create_model(
    "LanguageTemplates",
    __config__=STRICT,
    __doc__="The templates of one language, by channel.",
    **{channel.value: (model | None, None) for channel, model in TEMPLATE_MODELS.items()},
)
NotificationBody = create_model(
    "NotificationBody",
    __config__=STRICT,
    __doc__="The body of `notifications.upsert` (SPEC §1 fields).",
    id=(Slug, ...),
    name=(Name, ...),
    **{channel.with_flag: (bool, False) for channel in API_ORDER},
    **{channel.allow_mute_flag: (bool, False) for channel in API_ORDER},
    defaultLanguage=(Language, "en"),
    stackTimeout=(Seconds, DEFAULT_STACK_TIMEOUT),
    templates=(dict[str, LanguageTemplates], {}),
    quietHours=(QuietHours | None, None),
)
# What each enabled channel needs in the default language's templates.
REQUIRED = {channel.with_flag: (channel, channel.declared.required) for channel in API_ORDER}


def parse_notification(raw: Any) -> dict[str, Any]:
    """Validate a notification body and compile its templates; return it in stored form."""
    if not isinstance(raw, dict):
        raise HeraldError("body/invalid", "The body must be one notification, a JSON object.")
    if raw.get("id") in (None, "") or raw.get("name") in (None, ""):
        missing = "id" if raw.get("id") in (None, "") else "name"
        raise HeraldError(f"{missing}/required", f"{missing} is required.")
    try:
        body = NotificationBody.model_validate(raw)
    except ValidationError as exc:
        raise item_error(exc) from None
    templates = _templates_by_tag(body)
    _check_required(body, templates)
    check_templates(templates)
    return {
        "id": body.id,
        "name": body.name,
        **{c.with_column.name: getattr(body, c.with_flag) for c in API_ORDER},
        **{c.allow_mute_column.name: getattr(body, c.allow_mute_flag) for c in API_ORDER},
        "default_language": body.defaultLanguage,
        "stack_timeout": body.stackTimeout,
        "templates": templates,
        "quiet_hours": body.quietHours.model_dump(exclude_none=True) if body.quietHours else None,
    }


def _templates_by_tag(body: BaseModel) -> dict[str, dict[str, dict[str, Any]]]:
    """The templates keyed by canonical language tag; two keys of one language are refused."""
    templates: dict[str, dict[str, dict[str, Any]]] = {}
    keys: dict[str, str] = {}
    for language, channels in body.templates.items():
        try:
            tag = check_language(language)
        except Exception:
            raise HeraldError(
                "templates/invalid", f"templates key {language!r} is not a language tag."
            ) from None
        if tag in keys:
            raise HeraldError(
                "templates/invalid",
                f"templates keys {keys[tag]!r} and {language!r} are the same language; keep one.",
            )
        keys[tag] = language
        templates[tag] = {
            channel.value: getattr(channels, channel).model_dump(by_alias=True, exclude_none=True)
            for channel in TEMPLATE_MODELS
            if getattr(channels, channel) is not None
        }
    return templates


def _check_required(body: BaseModel, templates: dict[str, dict[str, Any]]) -> None:
    """Each enabled channel has what it needs in the default language's templates."""
    for flag, (channel, fields) in REQUIRED.items():
        if not getattr(body, flag):
            continue
        template = templates.get(body.defaultLanguage, {}).get(channel, {})
        for field in fields:
            if not template.get(field):
                raise HeraldError(
                    "templates/invalid",
                    f"{flag} is on, so templates.{body.defaultLanguage}.{channel}."
                    f"{field} (the default language's) is required.",
                )
        one_of = channel.declared.required_one_of
        if one_of and not any(template.get(field) for field in one_of):
            raise HeraldError(
                "templates/invalid",
                f"{flag} is on, so templates.{body.defaultLanguage}.{channel} needs "
                f"{' or '.join(one_of)}.",
            )


def upsert_notification(connection: Connection, project_id: str, values: dict[str, Any]):
    """Create or replace a notification whose senders are allowed; return its row."""
    values = {
        **values,
        "templates": check_template_senders(connection, project_id, values["templates"]),
    }
    now = utcnow()
    statement = dialect_insert(connection)(notifications).values(
        project_id=project_id, version=1, created_at=now, updated_at=now, **values
    )
    excluded = statement.excluded
    update = {key: excluded[key] for key in values if key != "id"}
    update.update(version=notifications.c.version + 1, updated_at=excluded.updated_at)
    statement = statement.on_conflict_do_update(
        index_elements=[notifications.c.project_id, notifications.c.id], set_=update
    ).returning(*notifications.c)
    return connection.execute(statement).one()


def get_notification(connection: Connection, project_id: str, notification_id: str):
    """One notification row, or `notification/notFound`."""
    row = connection.execute(
        select(notifications).where(
            notifications.c.project_id == project_id, notifications.c.id == notification_id
        )
    ).first()
    if row is None:
        raise not_found("notification", notification_id)
    return row


def list_notifications(connection: Connection, project_id: str) -> list:
    """Every notification of the project, by id."""
    return connection.execute(
        select(notifications)
        .where(notifications.c.project_id == project_id)
        .order_by(notifications.c.id)
    ).all()


def delete_notification(connection: Connection, project_id: str, notification_id: str) -> None:
    """Remove a notification; its messages stay as a record of what was sent."""
    result = connection.execute(
        delete(notifications).where(
            notifications.c.project_id == project_id, notifications.c.id == notification_id
        )
    )
    if result.rowcount == 0:
        raise not_found("notification", notification_id)


def notification_json(row) -> dict[str, Any]:
    """A notification as the API shows it."""
    return {
        "id": row.id,
        "name": row.name,
        **{c.with_flag: row._mapping[c.with_column] for c in API_ORDER},
        **{c.allow_mute_flag: row._mapping[c.allow_mute_column] for c in API_ORDER},
        "defaultLanguage": row.default_language,
        "stackTimeout": row.stack_timeout,
        "templates": row.templates,
        "quietHours": row.quiet_hours,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
    }
