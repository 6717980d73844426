"""The channel declaration: statuses and their moves, and what derives from it."""

from __future__ import annotations

from shared.channels import (
    DELIVERY_MOVES,
    FINAL,
    MESSAGE_FINAL,
    WAITING,
    Channel,
    ChannelStatus,
    MessageStatus,
)
from shared.contacts.users import Preference
from shared.infra.models import messages, notifications
from shared.notifications.catalog import TEMPLATE_MODELS, NotificationBody

S = ChannelStatus


def test_a_status_without_a_delivery_move_is_final():
    assert {
        S.SENT,
        S.FAILED,
        S.SKIPPED,
        S.MUTED,
        S.UNKNOWN,
        S.DELIVERED,
        S.BOUNCED,
        S.COMPLAINED,
        S.REJECTED,
    } == FINAL
    assert {S.PENDING, S.SCHEDULED} == WAITING
    assert all(moves for moves in DELIVERY_MOVES.values())


def test_email_feedback_only_moves_a_sent_email_forward():
    assert Channel.EMAIL.sources(S.DELIVERED) == {S.SENT}
    assert Channel.EMAIL.sources(S.BOUNCED) == {S.SENT, S.DELIVERED}
    assert Channel.EMAIL.moves(S.BOUNCED) == frozenset()
    assert Channel.SMS.sources(S.DELIVERED) == frozenset()


def test_a_message_is_final_once_sent_or_failed():
    assert {MessageStatus.SENT, MessageStatus.FAILED} == MESSAGE_FINAL


def test_each_channel_has_its_columns_flags_and_template_model():
    for channel in Channel:
        assert messages.c[f"{channel}_status"] is channel.status
        assert notifications.c[f"allow_mute_{channel}"] is channel.allow_mute_column
        assert {channel.with_flag, channel.allow_mute_flag} <= set(NotificationBody.model_fields)
        assert channel.preference in Preference.model_fields
        aliases = {f.alias or name for name, f in TEMPLATE_MODELS[channel].model_fields.items()}
        assert aliases == {field.name for field in channel.fields}


def test_the_mute_rule_needs_the_notifications_leave_and_the_users_preference():
    assert Channel.SMS.muted(True, {"muteSMS": True})
    assert not Channel.SMS.muted(False, {"muteSMS": True})
    assert not Channel.SMS.muted(True, {"muteEmail": True})
