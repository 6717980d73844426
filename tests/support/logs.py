"""What Herald logs inside a block, read back as the JSON lines it wrote."""

from __future__ import annotations

import contextlib
import io
import json
import logging

from shared.infra.logs import json_handler


@contextlib.contextmanager
def captured():
    """The JSON lines logged inside the block, as dicts (each line must parse)."""
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())
