"""The Nunjucks filters Jinja lacks or renders differently, and FILTERS, every filter a
template can use, each bounded (`shared.templating.bounded_filters`).

Jinja already has `default`, `safe`, `escape`, `capitalize`, `replace`, `join`, `length`,
`first` and `last` with Nunjucks' meaning. These differ, so Herald's follow Nunjucks: `round`
(JavaScript rounding, `3` not `3.0`), `truncate` (cuts at the last space before the length,
then adds the end), `urlencode` (encodes `/` like `encodeURIComponent`); and these are new:
`nl2br`, `dump` and `date`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import pass_eval_context
from jinja2.filters import FILTERS as JINJA_FILTERS
from markupsafe import Markup, escape

from shared.templating.bounded_filters import bound_filters
from shared.templating.bounded_output import REPLACED, json_text
from shared.templating.limits import ValueTooLarge, check_printed, check_size
from shared.templating.undefined import blank

MAX_FORMAT = 1_000  # characters of a date format
MAX_PRECISION = 20  # digits a `round` keeps
_NEWLINE = re.compile(r"\r\n|\n")


def round_number(value: Any, precision: int = 0, method: str = "common") -> Any:
    """Nunjucks' `round`: half up (`common`), `ceil` or `floor`; whole results print bare."""
    if blank(value):
        return value
    if not -MAX_PRECISION <= int(precision) <= MAX_PRECISION:
        raise ValueError(f"round keeps at most {MAX_PRECISION} digits")
    rounding = {"common": lambda x: math.floor(x + 0.5), "ceil": math.ceil, "floor": math.floor}
    if method not in rounding:
        raise ValueError("round's method is common, ceil or floor")
    factor = 10 ** int(precision)
    result = rounding[method](float(value) * factor) / factor
    return int(result) if result.is_integer() else result


def truncate(value: Any, length: int = 255, killwords: bool = False, end: str = "...") -> str:
    """Nunjucks' `truncate`: at most `length` characters, cut at the last space unless
    `killwords`, then `end` (Markup stays Markup)."""
    if blank(value):
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= length:
        return text
    cut = length if killwords else text.rfind(" ", 0, length + 1)
    return text[: length if cut == -1 else cut] + end


@pass_eval_context
def nl2br(eval_ctx: Any, value: Any) -> str:
    """Each line break becomes `<br />`; in autoescaped HTML the text is escaped first."""
    if blank(value) or value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    lines = _NEWLINE.split(text)
    check_size("the result of nl2br", len(text) + 6 * len(lines))
    if eval_ctx.autoescape:
        lines = _NEWLINE.split(escape(text))  # Markup stays as it is, the rest is escaped
        return Markup("<br />\n").join(Markup(line) for line in lines)
    return "<br />\n".join(lines)


def urlencode(value: Any) -> str:
    """Nunjucks' `urlencode`: a string as `encodeURIComponent`; a dict or a list of pairs as
    a query string."""
    if blank(value) or value is None:
        return ""
    if isinstance(value, str):
        return _component(value)
    pairs = value.items() if isinstance(value, dict) else value
    return "&".join(f"{_component(key)}={_component(item)}" for key, item in pairs)


def _component(value: Any) -> str:
    return quote(str(value), safe="!~*'()")


def dump(value: Any, spaces: int | str | None = None) -> str:
    """`JSON.stringify(value, null, spaces)`; refused when it would be past the bound."""
    if blank(value):
        return ""
    indent = spaces[:10] if isinstance(spaces, str) else min(max(int(spaces or 0), 0), 10)
    return json_text(
        value,
        ensure_ascii=False,
        indent=indent or None,
        separators=(",", ": ") if indent else (",", ":"),
        default=_json_value,
    )


def _json_value(value: Any) -> Any:
    """What JSON holds for the values of a template that JSON does not know."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if blank(value) else str(check_printed(value))


# Nunjucks-style (moment) format tokens, longest first; text in [brackets] is kept as is.
_TOKENS = re.compile(
    r"\[[^\]]*\]|YYYY|YY|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|HH|H|hh|h|mm|m|ss|s|A|a|ZZ|Z"
)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def format_date(value: Any, format: str = "YYYY-MM-DD", timezone: Any = None) -> str:  # noqa: A002
    """A date or date-time (ISO 8601 text or a datetime) in a moment-style format or a
    strftime one (with `%`), in `timezone` when given; a time without an offset is UTC."""
    if blank(value) or value is None:
        return ""
    moment = _as_datetime(value)
    if not blank(timezone) and timezone:
        try:
            moment = moment.astimezone(ZoneInfo(str(timezone)))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"date: {str(timezone)[:64]!r} is not a time zone") from None
    format = str(format)  # noqa: A001
    if len(format) > MAX_FORMAT:
        raise ValueTooLarge(f"a date format longer than {MAX_FORMAT:,} characters")
    if "%" in format:
        if re.search(r"%[-_0^#]*\d", format):
            raise ValueError("date: strftime widths are not supported")
        return moment.strftime(format)
    return _TOKENS.sub(lambda match: _token(moment, match.group(0)), format)


def _as_datetime(value: Any) -> datetime:
    """A datetime from a datetime, a date or ISO 8601 text; naive ones are read as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"date: {value[:64]!r} is not an ISO 8601 date") from None
    else:
        raise ValueError(f"date: a {type(value).__name__} is not a date; give ISO 8601 text")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _token(moment: datetime, token: str) -> str:
    """One moment-style token of `moment`."""
    if token.startswith("["):
        return token[1:-1]
    hour12 = moment.hour % 12 or 12
    offset = moment.strftime("%z") or "+0000"
    values = {
        "YYYY": f"{moment.year:04d}",
        "YY": f"{moment.year % 100:02d}",
        "MMMM": _MONTHS[moment.month - 1],
        "MMM": _MONTHS[moment.month - 1][:3],
        "MM": f"{moment.month:02d}",
        "M": str(moment.month),
        "Do": _ordinal(moment.day),
        "DD": f"{moment.day:02d}",
        "D": str(moment.day),
        "dddd": _DAYS[moment.weekday()],
        "ddd": _DAYS[moment.weekday()][:3],
        "HH": f"{moment.hour:02d}",
        "H": str(moment.hour),
        "hh": f"{hour12:02d}",
        "h": str(hour12),
        "mm": f"{moment.minute:02d}",
        "m": str(moment.minute),
        "ss": f"{moment.second:02d}",
        "s": str(moment.second),
        "A": "AM" if moment.hour < 12 else "PM",
        "a": "am" if moment.hour < 12 else "pm",
        "ZZ": offset,
        "Z": f"{offset[:3]}:{offset[3:5]}",
    }
    return values[token]


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# Every filter a template can use, each bounded (`shared.templating.bounded_filters`).
FILTERS = bound_filters(
    {
        **JINJA_FILTERS,
        **REPLACED,
        "round": round_number,
        "truncate": truncate,
        "nl2br": nl2br,
        "urlencode": urlencode,
        "dump": dump,
        "date": format_date,
    }
)
