"""``fits.json``'s row ranges and folds, read the one way (the audit's checks and the experiment's writer share it).

Every pair in ``fits.json`` is a half-open range ``[a, b)`` of row positions; a fold record holds ``train``, ``val``
and ``test`` as lists of ranges and its traded ``span`` (:mod:`signalbench.experiment.fits` writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FORMAT", "RecordedFold", "fold_rows", "ranges", "rows_of"]

#: Version of the ``fits.json`` layout.
FORMAT = 1


def ranges(rows: Any) -> list[list[int]]:
    """Sorted unique row positions as half-open ranges ``[[a, b), ...]`` (consecutive rows merged)."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) != 1)
    starts = np.r_[rows[0], rows[breaks + 1]]
    stops = np.r_[rows[breaks], rows[-1]] + 1
    return [[int(a), int(b)] for a, b in zip(starts, stops)]


def rows_of(spans: list[list[int]]) -> np.ndarray:
    """The row positions of half-open ranges (the inverse of :func:`ranges`), int64."""
    parts = [np.arange(int(a), int(b), dtype=np.int64) for a, b in spans]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class RecordedFold:
    """One fold as ``fits.json`` records it: its training, validation and tested rows, and its span [start, stop)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    start: int
    stop: int


def fold_rows(record: dict[str, Any]) -> RecordedFold:
    """The rows of one fold record of ``fits.json`` (``{"train": ranges, "val": ..., "test": ..., "span": ...}``)."""
    start, stop = record["span"]
    train, val, test = (rows_of(record[part]) for part in ("train", "val", "test"))
    return RecordedFold(train, val, test, int(start), int(stop))
