"""A message's sendAt: read once from the request, made an instant once its user's zone is known.

An RFC 3339 date-time with an offset is an instant; one without (a local date-time) is read in
the zone of its user as the batch leaves it, UTC when the user has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.infra.errors import HeraldError

MAX_SEND_AHEAD = timedelta(days=365)


def _invalid(value: str) -> HeraldError:
    return HeraldError(
        "sendAt/invalid",
        f"sendAt {value!r} is not an RFC 3339 date-time in range "
        "such as '2026-12-01T09:00:00+01:00' or '2026-12-01T09:00:00'.",
    )


@dataclass(frozen=True)
class SendAt:
    """A sendAt as given (`text`) and read (`moment`, naive for a local date-time)."""

    text: str
    moment: datetime

    @classmethod
    def parse(cls, value: str) -> SendAt:
        """`sendAt/invalid` unless a date-time, an instant in range once in UTC (years 1 to
        9999, offsets under 24 h)."""
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise _invalid(value) from None
        return cls(value, moment)

    @property
    def local(self) -> bool:
        """True for a date-time without offset, read in its user's zone."""
        return self.moment.tzinfo is None

    def instant(self, timezone: str | None, now: datetime) -> datetime:
        """The instant, a local date-time read in `timezone` (UTC when None); `sendAt/invalid`
        when out of range there, or more than 365 days after `now`."""
        try:
            moment = self.moment
            if self.local:
                moment = moment.replace(tzinfo=ZoneInfo(timezone or "UTC"))
            instant = moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise _invalid(self.text) from None
        if instant - now > MAX_SEND_AHEAD:
            raise HeraldError(
                "sendAt/invalid",
                f"sendAt {self.text!r} is more than 365 days ahead; send it later.",
            )
        return instant
