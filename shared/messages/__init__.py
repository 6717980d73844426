"""Messages from a batch to their answers: accepting, stacking, sending, storing, sweeping."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import lazy_exports

# Imported on first use: `sweeper` needs `shared.operations.queues`, which needs `store`.
if TYPE_CHECKING:
    from shared.messages.ingress import NewMessage
    from shared.messages.results import LOAD_COLUMNS, RESULT_COLUMNS, message_json, message_result
    from shared.messages.send_at import SendAt
    from shared.messages.sending import send_batch
    from shared.messages.store import CRASHED, MAX_BATCH, MessageFilter, get_message, list_messages
    from shared.messages.sweeper import sweep

__all__ = [
    "CRASHED",
    "LOAD_COLUMNS",
    "MAX_BATCH",
    "RESULT_COLUMNS",
    "MessageFilter",
    "NewMessage",
    "SendAt",
    "get_message",
    "list_messages",
    "message_json",
    "message_result",
    "send_batch",
    "sweep",
]
__getattr__ = lazy_exports(__name__, __file__, __all__)
