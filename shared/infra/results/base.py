"""What Herald asks of a result backend: a job's result under what is left of one deadline."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.results import ResultBackend


class ResultStore(ResultBackend):
    """A dramatiq result backend that waits for one job of a batch (`wait_results`)."""

    def wait(self, message: dramatiq.Message, remaining_ms: int) -> Any:
        """The job's result, waiting up to `remaining_ms` as this store can count them; raises
        `ResultTimeout` when it is not there in time."""
        raise NotImplementedError
