"""Tenants' templates as the rest of Herald uses them: compiled and rendered in this process's
render pool (`shared.templating.pool`), never in the process itself.

`use_settings` is called once where a process starts (the web app, the worker, the command
line) with the settings' limits; until then the defaults hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.infra.config import Settings
from shared.infra.errors import HeraldError
from shared.templating.jobs import Item
from shared.templating.pool import Limits, RenderPool, render_pool
from shared.templating.rendering import RenderFailed

_limits = Limits()


def use_limits(limits: Limits) -> None:
    """The render pool's size and limits for this process from now on."""
    global _limits
    _limits = limits


def current_limits() -> Limits:
    """The render pool's size and limits in this process now."""
    return _limits


def use_settings(settings: Settings) -> None:
    """The render pool as the settings size it (`HERALD_RENDER_PROCESSES`, ...)."""
    use_limits(
        Limits(settings.render_processes, settings.render_memory_mb, settings.render_time_limit)
    )


def pool() -> RenderPool:
    """This process's render pool."""
    return render_pool(_limits)


def render_pool_started() -> None:
    """Start this process's render pool (its children come up in the background)."""
    pool()


@dataclass(frozen=True)
class Rendered:
    """Each channel's rendered fields, and the names the templates used without a value."""

    contents: dict[str, dict[str, str | None]]
    undefined: list[str]


def check_templates(templates: dict[str, Any], project_id: str = "") -> None:
    """Compile every template; `template/invalid` names the first that fails (or the limit
    its compiling ran past)."""
    pool().run("compile", project_id, templates, failure="template/invalid", doing="compiling")


def render_channels(project_id: str, items: list[Item], context: dict[str, Any]) -> Rendered:
    """Render these channels with this context, within the message's time limit; RenderFailed
    when a template fails with this data or a limit stops it."""
    try:
        answer = pool().run("render", project_id, items, context, _limits.seconds)
    except HeraldError as exc:
        if exc.code != "template/renderFailed":
            raise
        raise RenderFailed(exc.message) from None
    return Rendered(answer["contents"], answer["undefined"])
