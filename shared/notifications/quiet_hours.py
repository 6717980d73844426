"""Quiet hours: a notification's window, and when e-mail and SMS due inside it may go."""

# The window is read on the user's local calendar (zoneinfo), so its end stays at the wall time
# it names across a DST change: 22:00-08:00 ends at 08:00 local whether the night had 7, 8 or 9
# hours. An end time the clocks skip (spring forward) becomes the first instant after the gap.

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from shared.infra.validation import Timezone, invalid


def check_hour_minute(value: str) -> str:
    """A wall-clock time `HH:MM` on the 24-hour clock."""
    if len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
        raise invalid(f"{value!r} is not a time of day such as '22:00' (HH:MM, 24-hour clock).")
    if int(value[:2]) > 23 or int(value[3:]) > 59:
        raise invalid(f"{value!r} is not a time of day: hours go to 23 and minutes to 59.")
    return value


HourMinute = Annotated[str, AfterValidator(check_hour_minute)]


class QuietHours(BaseModel):
    """A notification's quiet hours: `start` to `end` (may cross midnight) in the user's time
    zone; `timezone` is read for users who have none (UTC when it is absent too)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    start: HourMinute
    end: HourMinute
    timezone: Timezone | None = None

    @model_validator(mode="after")
    def _has_length(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end must differ (an empty window is no quiet hours)")
        return self


def quiet_until(
    window: dict[str, Any] | None, user_timezone: str | None, due: datetime
) -> datetime | None:
    """The end of the quiet window that the instant `due` falls in, or None when it falls
    outside (or the notification has no quiet hours)."""
    if not window:
        return None
    zone = _zone(user_timezone or window.get("timezone"))
    local = due.astimezone(zone)
    start, end = time.fromisoformat(window["start"]), time.fromisoformat(window["end"])
    clock = local.time()
    if start < end:
        inside, end_day = start <= clock < end, local.date()
    else:  # crosses midnight: from start tonight to end tomorrow morning
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return first_instant(datetime.combine(end_day, end, tzinfo=zone))


def first_instant(local: datetime) -> datetime:
    """The instant (UTC) of a local wall time; a time the clocks skip (spring forward) gives
    the first instant after the gap, when the clocks change. A repeated time (fall back) is its
    first occurrence."""
    while not _exists(local):
        local += timedelta(minutes=1)  # wall-clock arithmetic: walks to the gap's end
    return local.astimezone(UTC)


def _exists(local: datetime) -> bool:
    """True when the wall time `local` names is shown by its zone's clocks at some instant."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def _zone(name: str | None) -> ZoneInfo:
    """The named zone; UTC for none, or for a name this machine's tz database no longer has."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
