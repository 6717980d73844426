"""Tenants' templates: compiled, bounded and rendered in the render pool, for sends and previews."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import lazy_exports

# Imported on first use: the render process, which runs `child` and `jobs`, stays without the
# database layer `message` brings. `preview` is not here: once imported, the module of that
# name would stand in for it.
if TYPE_CHECKING:
    from shared.templating.isolated import check_templates, render_pool_started, use_settings
    from shared.templating.message import Draft, Recipient, RenderedMessage, render_message
    from shared.templating.rendering import RenderFailed, render_time_limit

__all__ = [
    "Draft",
    "Recipient",
    "RenderFailed",
    "RenderedMessage",
    "check_templates",
    "render_message",
    "render_pool_started",
    "render_time_limit",
    "use_settings",
]
__getattr__ = lazy_exports(__name__, __file__, __all__)
