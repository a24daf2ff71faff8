"""Min/max-per-bucket downsampling of long series for plots, so spikes and drawdowns survive.

A line of ``n`` points is cut into at most ``max_points // 2`` contiguous buckets of (nearly) equal length; each
bucket keeps its minimum and its maximum, in the order they occur (one point when they are the same row). The first
and last points of the series are kept as well, so the drawn line starts and ends where the data does. NaNs are
ignored when choosing the extremes (a bucket of NaNs keeps its first row). See ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signalbench._validation import integer, numeric_array

__all__ = ["minmax_downsample"]


def minmax_downsample(y: Any, max_points: int = 10_000) -> np.ndarray:
    """Sorted row positions of ``y`` to draw: every bucket's min and max, plus the first and last rows.

    Parameters
    ----------
    y : array-like, 1-D
        The series (numbers; NaN allowed).
    max_points : int, default 10000
        At most this many positions (plus the first and last row) are returned; at least 4.

    Returns
    -------
    numpy.ndarray
        int64 row positions, strictly increasing; all rows when ``len(y) <= max_points``.
    """
    values, _, _ = numeric_array(y, "y", ndim=(1,), allow_nan=True)
    max_points = integer(max_points, "max_points", minimum=4)
    n = values.shape[0]
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    starts = edges[:-1]
    filled = values
    lo = np.fmin.reduceat(filled, starts)  # NaN-skipping extremes per bucket
    hi = np.fmax.reduceat(filled, starts)
    rows = np.arange(n)
    bucket = np.searchsorted(edges, rows, side="right") - 1
    is_lo = filled == lo[bucket]
    is_hi = filled == hi[bucket]
    first_lo = _first_true(is_lo, bucket, starts)
    first_hi = _first_true(is_hi, bucket, starts)
    keep = np.unique(np.concatenate([first_lo, first_hi, [0, n - 1]]))
    return keep.astype(np.int64)


def _first_true(mask: np.ndarray, bucket: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per bucket, the first row where ``mask`` holds (the bucket's first row when it never does)."""
    out = starts.copy()
    hit = np.flatnonzero(mask)
    if hit.size:
        b = bucket[hit]
        first = np.unique(b, return_index=True)
        out[first[0]] = hit[first[1]]
    return out
