"""A message's channels as delivery sees them: each channel's state in a row, and its changes.
The channels themselves, their columns and statuses are declared in shared.channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Row, case

from shared.channels import FINAL, Channel, ChannelStatus
from shared.messages import CRASHED


@dataclass(frozen=True)
class ChannelState:
    """What the row says of one channel: status, detail, provider message id and the provider
    that took it; after a send, also every provider tried (`attempts`, written, never read)."""

    status: ChannelStatus | None
    detail: str | None = None
    provider_id: str | None = None
    provider: str | None = None
    attempts: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, channel: Channel, row: Row) -> ChannelState:
        """This channel's state in a row of the messages table (or of a statement returning
        its columns by name, such as a claim's CTE)."""
        mapping = row._mapping
        return cls(
            mapping[channel.status.name],
            mapping[channel.detail.name],
            mapping[channel.provider_id.name],
            mapping.get(channel.provider.name),
        )

    @property
    def final(self) -> bool:
        """Unused or in a final status: nothing is left to do on this channel."""
        return self.status is None or self.status in FINAL

    def values(self, channel: Channel) -> dict[str, Any]:
        """This state as the row changes of `channel`'s columns (the attempts only when a send
        made some)."""
        values = {
            channel.status.name: self.status,
            channel.detail.name: self.detail,
            channel.provider_id.name: self.provider_id,
            channel.provider.name: self.provider,
        }
        if self.attempts:
            values[channel.attempts.name] = list(self.attempts)
        return values


SENDING = ChannelState(ChannelStatus.SENDING)
PENDING = ChannelState(ChannelStatus.PENDING)  # nothing went: the next delivery sends it
IN_CALL = "unknown: the delivery stopped during the provider call; not sent again"


def crashed_values(channel: Channel) -> dict[Column, Any]:
    """A crashed message's changes to `channel`: pending fails, an in-flight send is unknown,
    a final status stays (as SQL, each read from the row as it was)."""
    status = channel.status
    pending, sending = status == ChannelStatus.PENDING, status == ChannelStatus.SENDING
    return {
        status: case(
            (pending, ChannelStatus.FAILED), (sending, ChannelStatus.UNKNOWN), else_=status
        ),
        channel.detail: case((pending, CRASHED), (sending, IN_CALL), else_=channel.detail),
    }
