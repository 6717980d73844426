"""Request models of the batch endpoints (`users.upsert`, `messages.send` items), parsed."""

from __future__ import annotations

from typing import Any

import uuid6
from pydantic import Field, create_model

from shared.contacts.devices import check_endpoint, parse_tokens
from shared.contacts.users import PROFILE, PROFILE_FIELDS, Preference, UserChange
from shared.infra.errors import HeraldError, Refused
from shared.infra.validation import Data, Id, Item, parse_item
from shared.messages.ingress import NewMessage
from shared.messages.send_at import SendAt
from shared.notifications.catalog import EmailTemplate, PushTemplate, WidgetTemplate
from shared.templating.isolated import check_templates

UserItem = create_model(
    "UserItem",
    __base__=Item,
    __doc__="One item of `users.upsert`.",
    id=(Id, ...),
    **{field.name: (field.kind | None, None) for field in PROFILE},
    data=(Data | None, None),
    preferences=(dict[Id, Preference] | None, None),
    pushTokens=(list[Any] | None, None),
)

MessageItem = create_model(
    "MessageItem",
    __base__=Item,
    __doc__="One item of `messages.send`.",
    notificationId=(Id, ...),
    userId=(Id, ...),
    id=(Id | None, None),
    data=(Data, Field(default_factory=dict)),
    incrementId=(Id | None, None),
    **{field.send_name: (field.kind | None, None) for field in PROFILE},
    widgetSettingsOverride=(WidgetTemplate | None, None),
    emailSettingsOverride=(EmailTemplate | None, None),
    pushSettingsOverride=(PushTemplate | None, None),
    sendAt=(str | None, None),
)

OVERRIDES = (
    ("widgetSettingsOverride", "widget"),
    ("emailSettingsOverride", "email"),
    ("pushSettingsOverride", "push"),
)
# SPEC §2: in `messages.send` an optional field sent as null is absent, and so is an empty
# string in an optional text field (clients that serialise every field of a struct send "" for
# the ones they never set). Within an override, a null or empty setting overrides nothing.
OPTIONAL = set(MessageItem.model_fields) - {"notificationId", "userId"}
TEXT_FIELDS = {"id", "incrementId", "sendAt", *(field.send_name for field in PROFILE)}
OVERRIDE_SETTINGS = {
    name: {f.alias or key for key, f in model.model_fields.items()}
    for name, model in (
        ("widgetSettingsOverride", WidgetTemplate),
        ("emailSettingsOverride", EmailTemplate),
        ("pushSettingsOverride", PushTemplate),
    )
}


def _raw_id(raw: Any) -> str | None:
    """The id an item names, when it is a string (for the result of a refused item)."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value else None


def without_blanks(raw: Any) -> Any:
    """A `messages.send` item without its absent-by-convention fields: null optional fields,
    empty optional text fields, and null or empty settings of an override. Unknown keys stay,
    to be refused as `<field>/unknown`."""
    if not isinstance(raw, dict):
        return raw
    kept = {}
    for name, value in raw.items():
        if name in OPTIONAL and (value is None or (value == "" and name in TEXT_FIELDS)):
            continue
        if name in OVERRIDE_SETTINGS and isinstance(value, dict):
            known = OVERRIDE_SETTINGS[name]
            value = {k: v for k, v in value.items() if k not in known or v not in (None, "")}
        kept[name] = value
    return kept


def _cleared(raw: Any) -> Any:
    """A `users.upsert` item with each empty profile field as null: both clear it (SPEC §2)."""
    if not isinstance(raw, dict):
        return raw
    return {
        name: None if name in PROFILE_FIELDS and value == "" else value
        for name, value in raw.items()
    }


def parse_users(raw_items: list[Any], allow_private: bool) -> list[UserChange | Refused]:
    """Each `users.upsert` item validated, or refused with its first problem; a Web Push
    endpoint must be public unless `allow_private` (SPEC §9's address rule)."""
    parsed: list[UserChange | Refused] = []
    looked_up: dict[str, str | None] = {}  # each push service's host, looked up once
    for raw in raw_items:
        try:
            item = parse_item(UserItem, _cleared(raw), required=("id",))
            fields = {name: getattr(item, name) for name in item.model_fields_set - {"id"}}
            if fields.get("pushTokens") is not None:
                fields["pushTokens"] = parse_tokens(fields["pushTokens"])
                for token in fields["pushTokens"]:
                    check_endpoint(token, allow_private, looked_up)
            else:
                fields.pop("pushTokens", None)
        except HeraldError as exc:
            parsed.append(Refused(_raw_id(raw), exc))
            continue
        parsed.append(UserChange(item.id, fields))
    return parsed


def parse_messages(raw_items: list[Any]) -> list[NewMessage | Refused]:
    """Each `messages.send` item validated (an id given once per batch), or refused."""
    parsed: list[NewMessage | Refused] = []
    seen: set[str] = set()
    for raw in raw_items:
        try:
            message = parse_message(raw)
            if message.id in seen:
                raise HeraldError("id/exists", f"id {message.id!r} appears earlier in this batch.")
        except HeraldError as exc:
            parsed.append(Refused(_raw_id(raw), exc))
            continue
        seen.add(message.id)
        parsed.append(message)
    return parsed


def parse_message(raw: Any) -> NewMessage:
    """Validate one message item; overrides are compiled so a syntax error is caught here."""
    item = parse_item(MessageItem, without_blanks(raw), required=("notificationId", "userId"))
    overrides = {name: _dump(getattr(item, name)) for name, _ in OVERRIDES}
    for name, channel in OVERRIDES:
        if overrides[name] is not None:  # a syntax error is `template/invalid`, as on upsert
            check_templates({"override": {channel: overrides[name]}})
    return NewMessage(
        id=item.id or str(uuid6.uuid7()),
        user_id=item.userId,
        notification_id=item.notificationId,
        data=item.data,
        increment_id=item.incrementId,
        send_at=None if item.sendAt is None else SendAt.parse(item.sendAt),
        widget_override=overrides["widgetSettingsOverride"],
        email_override=overrides["emailSettingsOverride"],
        push_override=overrides["pushSettingsOverride"],
        profile={
            field.column: getattr(item, field.send_name)
            for field in PROFILE
            if getattr(item, field.send_name) is not None
        },
    )


def _dump(model) -> dict[str, Any] | None:
    """A template override as stored, or None when absent."""
    return None if model is None else model.model_dump(by_alias=True, exclude_none=True)
