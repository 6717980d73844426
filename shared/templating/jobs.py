"""The templating jobs a render process runs, by name: the only things it can be asked to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.templating.cache import for_project
from shared.templating.rendering import compile_templates, render_channel, render_time_limit
from shared.templating.undefined import undefined_names

# One channel to render: its template's language, the channel, its fields (override applied).
Item = tuple[str, str, dict[str, Any]]


def render(
    project_id: str, items: list[Item], context: dict[str, Any], seconds: float
) -> dict[str, Any]:
    """Each channel's rendered fields and the undefined names met, within the time limit."""
    parents: dict[bool, dict[str, Any]] = {}  # the context with each environment's globals
    with for_project(project_id), render_time_limit(seconds), undefined_names() as names:
        contents = {
            channel: render_channel(language, channel, fields, context, parents)
            for language, channel, fields in items
        }
    return {"contents": contents, "undefined": sorted(names)}


def compile_all(project_id: str, templates: dict[str, Any]) -> None:
    """Compile a notification's templates (`template/invalid` for the first that fails)."""
    with for_project(project_id):
        compile_templates(templates)


OPERATIONS: dict[str, Callable[..., Any]] = {"render": render, "compile": compile_all}
