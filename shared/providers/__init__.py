"""Providers as the rest of Herald sees them (SPEC §8): their URLs (`urls.py`) and each
project's own chains (`chains.py`); the worker's `worker.providers` sends through them."""

from shared.providers.urls import (
    CHANNEL_KINDS,
    KINDS,
    ProviderUrl,
    ProviderUrlError,
    parse_chain,
    parse_provider_url,
)

__all__ = [
    "CHANNEL_KINDS",
    "KINDS",
    "ProviderUrl",
    "ProviderUrlError",
    "parse_chain",
    "parse_provider_url",
]
