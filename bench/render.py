"""The CPU one message's rendering costs in the render pool against rendering it in-process:
`python -m bench.render` (the benchmark's notification, e-mail, SMS and widget; this process
and its render children counted together)."""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.cpu import TICK, process_ticks
from bench.memory import descendants
from bench.payloads import notification
from shared.channels import Channel
from shared.templating import message
from shared.templating.isolated import Rendered, render_channels
from shared.templating.jobs import render as render_in_process
from shared.templating.message import Draft, Recipient, render_message
from shared.templating.pool import Limits, render_pool

COLUMNS = {
    "email": "ann@example.com", "telephone": "+447911123456", "first_name": "Ann",
    "last_name": "Lee", "photo_url": None, "language": "en", "timezone": None, "country": "GB",
}  # fmt: skip
DATA = {"title": "Your order", "body": "It shipped today.", "lines": ["a", "b", "c"]}


class Project:
    """The project settings a rendering fills in (the From of the e-mail)."""

    email_from = "bench@example.com"
    email_from_name = "Bench"
    sms_sender_id = None


def draft(index: int) -> Draft:
    """The benchmark's message to one user, as the worker reads it."""
    body = notification()
    return Draft(
        notification_id=body["id"],
        notification_name=body["name"],
        templates=body["templates"],
        default_language="en",
        message_id=f"m{index}",
        data=DATA,
        recipient=Recipient(f"u{index}", COLUMNS, {}),
        project_id="bench",
    )


def cpu_seconds() -> float:
    """CPU of this process and every process below it (the render children)."""
    return sum(process_ticks(pid) for pid in descendants(os.getpid())) / TICK


def per_message(render, count: int) -> float:
    """Microseconds of CPU one message costs through `render`."""
    drafts = [draft(i) for i in range(count)]
    started = cpu_seconds()
    for one in drafts:
        render(one)
    return (cpu_seconds() - started) / count * 1e6


def rendered_here(project_id: str, items: list, context: dict) -> Rendered:
    """What the render pool answers, rendered in this process (the child's job, run here)."""
    answer = render_in_process(project_id, items, context, 2.0)
    return Rendered(answer["contents"], answer["undefined"])


def in_process(one: Draft) -> None:
    """The same `render_message`, its channels rendered here instead of in the pool."""
    message.render_channels = rendered_here
    try:
        render_message(one, list(Channel), Project())
    finally:
        message.render_channels = render_channels


def pooled_render(one: Draft) -> None:
    """The rendering as delivery does it: in the render pool."""
    render_message(one, list(Channel), Project())


def main() -> None:
    """Interleaved runs of both ways; the median of each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    render_pool(Limits())  # started before it is measured
    time.sleep(1.0)
    pooled, local = [], []
    for _ in range(args.runs):
        pooled.append(
            per_message(lambda d: render_message(d, list(Channel), Project()), args.messages)
        )
        local.append(per_message(in_process, args.messages))
    print(f"in the render pool: {statistics.median(pooled):.0f} µs of CPU a message "
          f"(runs: {', '.join(f'{v:.0f}' for v in pooled)})")  # fmt: skip
    print(f"in-process:         {statistics.median(local):.0f} µs of CPU a message "
          f"(runs: {', '.join(f'{v:.0f}' for v in local)})")  # fmt: skip
    print(f"the pool's cost:    {statistics.median(pooled) - statistics.median(local):.0f} µs")


if __name__ == "__main__":
    main()
