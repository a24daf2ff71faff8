"""Input handling shared by the data modules: numeric series in time order, groups (days) and row positions.

Argument checks and messages come from :mod:`signalbench._validation`; this module adds what several data modules
need on top of it. It imports only NumPy and pandas (no Numba), so :mod:`signalbench.data.splits` stays light.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import check_sorted_index, choice, describe, expected, numeric_array

__all__ = ["Runs", "group_bounds", "group_ids", "in_time_order", "name_choice", "row_positions", "series"]


def name_choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    """One of the names ``options``: ``TypeError`` for anything but a string, else :func:`_validation.choice`.

    (``choice`` compares ``value in options`` first, which a NumPy array answers with its own ``ValueError``.)
    """
    if not isinstance(value, str):
        raise TypeError(expected(name, "one of " + ", ".join(repr(o) for o in options), value))
    return choice(value, name, options)


def in_time_order(x: Any, name: str) -> None:
    """For pandas input, a ``ValueError`` naming the first row whose timestamp is earlier than the one before.

    Features and labels read the rows in the order given and call the result causal (or forward-looking); on a frame
    sorted backwards that would be silently wrong, so a time index that is not sorted is refused. Inputs without a
    time index are taken in the order given.
    """
    if isinstance(x, pd.Series | pd.DataFrame):
        check_sorted_index(x.index, name)


def series(x: Any, name: str) -> np.ndarray:
    """A 1-D numeric input (array-like or Series in time order) as a contiguous float64 array.

    Non-finite values stay as they are (callers treat them as missing). Datetimes, timedeltas, strings and objects
    are a ``TypeError`` naming the column; a Series whose time index is not sorted is a ``ValueError``.
    """
    in_time_order(x, name)
    values, _, _ = numeric_array(x, name, ndim=(1,), allow_inf=True)
    return np.ascontiguousarray(values)


class Runs:
    """Run ids already computed by :func:`group_ids`, passed between the functions of a feature set."""

    __slots__ = ("gid",)

    def __init__(self, gid: np.ndarray) -> None:
        self.gid = gid


def group_ids(groups: Any, n: int) -> np.ndarray:
    """Run id per row (int64, 0, 1, 2, ...) from group labels such as a ``day`` column.

    Parameters
    ----------
    groups : array-like or None
        One label per row, in time order; rows of one group must be contiguous. ``None`` gives a single group.
    n : int
        Number of rows.

    Returns
    -------
    numpy.ndarray
        ``gid`` with ``gid[t] != gid[t-1]`` exactly where a new group starts.

    Raises
    ------
    TypeError
        If ``groups`` is a single value (a number, a name) instead of one label per row.
    ValueError
        If the length differs from ``n``, a label is missing, or a group appears in more than one block of rows.
    """
    if groups is None:
        return np.zeros(n, dtype=np.int64)
    if isinstance(groups, Runs):
        if groups.gid.shape[0] != n:
            raise ValueError(expected("groups", f"one label per row ({n})", f"{groups.gid.shape[0]} labels", raw=True))
        return groups.gid
    labels = groups.to_numpy() if isinstance(groups, pd.Series | pd.Index) else np.asarray(groups)
    if labels.ndim == 0:
        raise TypeError(expected("groups", f"one label per row ({n}), e.g. the 'day' column", groups))
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(expected("groups", f"one label per row ({n})", f"shape {labels.shape}", raw=True))
    codes, uniques = pd.factorize(labels)
    if n and codes.min() < 0:
        raise ValueError(
            expected("groups", "a label on every row", "a missing label", raw=True, at=f"row {int(np.argmin(codes))}")
        )
    change = np.zeros(n, dtype=bool)
    np.not_equal(codes[1:], codes[:-1], out=change[1:])
    gid = np.cumsum(change, dtype=np.int64)
    if n and gid[-1] + 1 != len(uniques):
        _raise_split_group(codes, uniques, change)
    return gid


def _raise_split_group(codes: np.ndarray, uniques: Any, change: np.ndarray) -> None:
    seen: set[int] = set()
    for row in np.flatnonzero(np.r_[True, change[1:]]):
        if codes[row] in seen:
            raise ValueError(
                expected(
                    "groups",
                    "contiguous runs (each group in one block of rows, sorted by time)",
                    f"group {uniques[codes[row]]!r} starting again",
                    raw=True,
                    at=f"row {int(row)}",
                )
            )
        seen.add(int(codes[row]))


def group_bounds(gid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last row of each row's group: ``(first, last)``, int64 arrays of ``gid``'s length."""
    n = gid.shape[0]
    rows = np.arange(n, dtype=np.int64)
    if n == 0:
        return rows, rows
    new = np.r_[True, gid[1:] != gid[:-1]]
    first = np.maximum.accumulate(np.where(new, rows, 0))
    ends = np.r_[gid[1:] != gid[:-1], True]
    last = np.minimum.accumulate(np.where(ends, rows, n)[::-1])[::-1]
    return first, last


def row_positions(rows: Any, n: int, name: str = "rows") -> np.ndarray:
    """Sorted, unique int64 row positions in ``[0, n)`` (as :mod:`signalbench.data.splits` returns them).

    Raises ``TypeError`` for anything but integers (a float or boolean array, a scalar) and ``ValueError`` for an
    empty, unsorted or repeated list or a position outside the data, naming the first offending entry.
    """
    arr = np.asarray(rows.to_numpy() if isinstance(rows, pd.Series | pd.Index) else rows)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        found = describe(rows) if arr.ndim != 1 else f"an array of dtype {arr.dtype}"
        raise TypeError(expected(name, "a 1-D array of integer row positions", found, raw=True))
    if arr.size == 0:
        raise ValueError(expected(name, "at least one row position", "an empty array", raw=True))
    arr = arr.astype(np.int64, copy=False)
    outside = (arr < 0) | (arr >= n)
    if outside.any():
        i = int(np.argmax(outside))
        raise ValueError(expected(name, f"row positions in [0, {n})", int(arr[i]), at=f"entry {i}"))
    disorder = np.diff(arr) <= 0
    if disorder.any():
        i = int(np.argmax(disorder)) + 1
        raise ValueError(
            expected(
                name,
                "strictly increasing row positions",
                f"{int(arr[i])} after {int(arr[i - 1])}",
                raw=True,
                at=f"entry {i}",
            )
        )
    return arr
