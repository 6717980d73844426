"""Field validation shared by every endpoint: one checker per kind of value, pydantic for shapes."""

# Each checker normalises what it accepts (E.164 phone numbers, canonical language tags, upper-case
# country codes) and raises `invalid(...)`, which becomes the item error `<field>/invalid`.

from __future__ import annotations

import functools
import json
import math
import zoneinfo
from typing import Annotated, Any

import langcodes
import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from shared.infra.errors import HeraldError

MAX_ID = 128


def invalid(message: str) -> PydanticCustomError:
    """The error a checker raises: the field's name is added to make the code."""
    return PydanticCustomError("invalid", message)


def check_email(value: str) -> str:
    """An e-mail address by RFC 5322 syntax (no DNS look-up)."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise invalid(f"{value!r} is not an e-mail address: {exc}") from None


def check_telephone(value: str) -> str:
    """A phone number in E.164 form (`+447911123456`), returned normalised."""
    if not value.startswith("+"):
        raise invalid(f"{value!r} is not in E.164 form: it must start with + and the country code.")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise invalid(f"{value!r} is not a phone number: {exc}.") from None
    if not phonenumbers.is_valid_number(number):
        raise invalid(f"{value!r} is not a valid phone number for its country code.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(value: str) -> str:
    """An IANA time zone name such as `Europe/London`."""
    if value not in _timezones():
        raise invalid(f"{value!r} is not an IANA time zone name such as 'Europe/London'.")
    return value


# Languages and countries repeat from user to user: a valid one is checked once a process
# (a bounded cache; an invalid one raises, which is not cached).
@functools.lru_cache(maxsize=1024)
def check_language(value: str) -> str:
    """A BCP 47 language tag (`en`, `pt-BR`), returned in its canonical case."""
    if not langcodes.tag_is_valid(value):
        raise invalid(f"{value!r} is not a BCP 47 language tag such as 'en' or 'pt-BR'.")
    return langcodes.standardize_tag(value)


@functools.lru_cache(maxsize=1024)
def check_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 country code, returned upper-case."""
    if len(value) != 2 or pycountry.countries.get(alpha_2=value.upper()) is None:
        raise invalid(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as 'GB'.")
    return value.upper()


def check_url(value: str) -> str:
    """An absolute http(s) URL."""
    if not value.startswith(("https://", "http://")):
        raise invalid(f"{value!r} is not an absolute http(s) URL.")
    return value


def check_data(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON object every database and strict JSON client can read back: no number that
    overflowed to infinity (`1e400`)."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise invalid("a number is too large to store (it overflows to infinity)")
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


Id = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_ID)]
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(check_email)]
Telephone = Annotated[str, StringConstraints(max_length=20), AfterValidator(check_telephone)]
Timezone = Annotated[str, AfterValidator(check_timezone)]
Language = Annotated[str, StringConstraints(max_length=35), AfterValidator(check_language)]
Country = Annotated[str, AfterValidator(check_country)]
Url = Annotated[str, StringConstraints(max_length=2048), AfterValidator(check_url)]
Name = Annotated[str, StringConstraints(max_length=200)]
TemplateText = Annotated[str, StringConstraints(max_length=100_000)]  # a template's source
Data = Annotated[dict[str, Any], AfterValidator(check_data)]
PUSH_DATA_BYTES = 4096  # SPEC §10: a push's `data` object, as JSON


def check_push_data(value: dict[str, Any]) -> dict[str, Any]:
    """A push's `data`: a JSON object of at most 4 KiB written as compact JSON."""
    check_data(value)
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > PUSH_DATA_BYTES:
        raise invalid(f"data is {size} bytes as JSON; a push's data has at most 4096")
    return value


PushData = Annotated[dict[str, Any], AfterValidator(check_push_data)]


class Item(BaseModel):
    """Base of a batch item: strict types, unknown fields refused, camelCase names."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=False)


def parse_item(model: type[Item], raw: Any, required: tuple[str, ...]) -> Item:
    """Validate one item; raise HeraldError with the code of its first problem."""
    if not isinstance(raw, dict):
        raise HeraldError("item/invalid", "Each item must be a JSON object.")
    for name in required:
        if raw.get(name) in (None, ""):
            raise HeraldError(f"{name}/required", f"{name} is required and must not be empty.")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise item_error(exc) from None


def item_error(exc: ValidationError) -> HeraldError:
    """Turn pydantic's first error into `<field>/<reason>` and one sentence."""
    error = exc.errors(include_url=False)[0]
    field = str(error["loc"][0]) if error["loc"] else "item"
    if error["type"] == "extra_forbidden" and len(error["loc"]) > 1:
        path = ".".join(str(part) for part in error["loc"])
        return HeraldError(f"{field}/invalid", f"{path} is not a field Herald knows there.")
    if error["type"] == "extra_forbidden":
        return HeraldError(f"{field}/unknown", f"{field} is not a field Herald knows.")
    if error["type"] == "missing" and len(error["loc"]) == 1:  # nested: `<field>/invalid`
        return HeraldError(f"{field}/required", f"{field} is required.")
    path = ".".join(str(part) for part in error["loc"])
    return HeraldError(f"{field}/invalid", f"{path}: {error['msg']}.".replace("..", "."))
