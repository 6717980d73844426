"""Median and tail of repeated measurements."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    """The median, NaN when there is nothing."""
    return statistics.median(values) if values else float("nan")


def summary(values: list[float], higher_is_better: bool = False) -> tuple[float, float]:
    """(median, p99): the p99 is the worse tail, the low one for rates."""
    return median(values), percentile(values, 1 if higher_is_better else 99)
