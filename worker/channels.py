"""A message's channels as delivery sees them: each channel's columns and its state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Row, case

from shared.messages.store import CRASHED, FINAL
from shared.infra.models import CHANNELS, messages


class Channel(StrEnum):
    """A channel of a message, with its columns of the messages table."""

    EMAIL = "email"
    SMS = "sms"
    WIDGET = "widget"

    @property
    def status(self) -> Column:
        """`pending`, `sending` or a final status; NULL when the notification doesn't use it."""
        return messages.c[f"{self}_status"]

    @property
    def detail(self) -> Column:
        """Why it was skipped, muted or failed: a code, or the provider's error."""
        return messages.c[f"{self}_detail"]

    @property
    def provider_id(self) -> Column:
        """The provider's message id of a sent e-mail or SMS."""
        return messages.c[f"{self}_provider_id"]

    def state(self, row: Row) -> ChannelState:
        """This channel's state in a row of the messages table (or of a statement returning its
        columns by name)."""
        mapping = row._mapping
        return ChannelState(
            mapping[f"{self}_status"], mapping[f"{self}_detail"], mapping[f"{self}_provider_id"]
        )


assert tuple(Channel) == CHANNELS, "Channel lists the channels of shared.infra.models, in its order"


@dataclass(frozen=True)
class ChannelState:
    """What the row says of one channel: status, detail and provider message id."""

    status: str | None
    detail: str | None = None
    provider_id: str | None = None

    @property
    def final(self) -> bool:
        """Unused or in a final status: nothing is left to do on this channel."""
        return self.status is None or self.status in FINAL

    def values(self, channel: Channel) -> dict[str, Any]:
        """This state as the row changes of `channel`'s columns."""
        return {
            channel.status.name: self.status,
            channel.detail.name: self.detail,
            channel.provider_id.name: self.provider_id,
        }


SENDING = ChannelState("sending")
PENDING = ChannelState("pending")  # nothing went: the next delivery sends it
IN_CALL = "unknown: the delivery stopped during the provider call; not sent again"


def crashed_values(channel: Channel) -> dict[Column, Any]:
    """A crashed message's changes to `channel`: pending fails, an in-flight send is unknown,
    a final status stays (as SQL, each read from the row as it was)."""
    status = channel.status
    return {
        status: case(
            (status == "pending", "failed"), (status == "sending", "unknown"), else_=status
        ),
        channel.detail: case(
            (status == "pending", CRASHED), (status == "sending", IN_CALL), else_=channel.detail
        ),
    }
