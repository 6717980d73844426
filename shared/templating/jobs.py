"""The templating jobs a render process runs, by name: the only things it can be asked to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.templating.cache import for_project
from shared.templating.rendering import compile_templates, render_message, render_time_limit


def render(
    project_id: str,
    templates: dict[str, Any],
    languages: dict[str, str],
    context: dict[str, Any],
    overrides: dict[str, Any],
    seconds: float,
) -> dict[str, Any]:
    """Every channel of a message rendered, within the message's time limit."""
    with for_project(project_id), render_time_limit(seconds):
        return render_message(templates, languages, context, overrides)


def compile_all(project_id: str, templates: dict[str, Any]) -> None:
    """Compile a notification's templates (`template/invalid` for the first that fails)."""
    with for_project(project_id):
        compile_templates(templates)


OPERATIONS: dict[str, Callable[..., Any]] = {"render": render, "compile": compile_all}
