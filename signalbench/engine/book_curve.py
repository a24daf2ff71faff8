"""The capacity curve of a set of signals: net return and signal efficiency against the size traded on the book.

:func:`book_capacity` runs :func:`signalbench.engine.book.book_backtest` once per size and reads, per column,
the total additive net return (a fraction of the notional ``size x mid``) and the signal efficiency against the
book oracle at that size. A column's *capacity* is the size at which its net return crosses zero, interpolated
linearly between the two sizes that bracket the first crossing: 0 when the smallest size already loses, inf
when no size does, NaN for a column that never trades. The figure comes from the displayed book alone (the limits of
:mod:`signalbench.engine.book` apply: our own trades do not deplete it, hidden liquidity is not counted).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import expected
from signalbench.engine.book import book_backtest
from signalbench.engine.book_inputs import as_book


@dataclass(frozen=True)
class CapacityCurve:
    """What :func:`book_capacity` measured.

    Attributes
    ----------
    net_return, signal_efficiency, rows_short_of_depth : pandas.DataFrame
        One row per size (ascending, index ``size``), one column per position column.
    capacity : pandas.Series
        Per column, the size where the net return crosses zero (0: already <= 0 at the smallest size; inf:
        positive at every size; NaN: the column never trades).
    """

    net_return: pd.DataFrame
    signal_efficiency: pd.DataFrame
    rows_short_of_depth: pd.DataFrame
    capacity: pd.Series


def book_capacity(price: Any, position: Any, book: Any, *, sizes: Any, **kwargs: Any) -> CapacityCurve:
    """Net return and signal efficiency of every column at each of ``sizes`` shares, and each column's capacity.

    Parameters
    ----------
    price, position, book
        As in :func:`signalbench.engine.book.book_backtest`.
    sizes : sequence of int
        The sizes in shares (each >= 1, distinct), e.g. ``[1, 10, 100, 500, 1000]``.
    **kwargs
        The other arguments of :func:`book_backtest` (``unfilled``, ``fee_bps``, ``latency``, ...) except
        ``size``, ``notional`` and ``mode`` (the curve is additive).

    Raises
    ------
    TypeError, ValueError
        ``sizes`` empty, not whole numbers >= 1 or repeated; ``size``, ``notional`` or ``mode`` in ``kwargs``; anything
        :func:`book_backtest` raises.
    """
    grid = _sizes(sizes)
    for name in ("size", "notional", "mode"):
        if name in kwargs:
            raise TypeError(expected(name, "no such argument here (sizes are the curve's; mode is additive)", name))
    if isinstance(book, pd.DataFrame):  # converted to integer ticks once, for every size
        book = as_book(book, len(book), None)
    net, eff, short, columns, seen = [], [], [], None, set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for size in grid:
            stats = book_backtest(price, position, book, size=int(size), mode="additive", **kwargs).stats
            columns = stats.columns
            net.append(stats.loc["total_return_additive"].to_numpy())
            eff.append(stats.loc["signal_efficiency"].to_numpy())
            short.append(stats.loc["rows_short_of_depth"].to_numpy())
    for w in caught:
        if str(w.message) not in seen:
            seen.add(str(w.message))
            warnings.warn(w.message, w.category, stacklevel=2)
    index = pd.Index(grid, name="size")
    frames = [pd.DataFrame(np.vstack(v), index=index, columns=columns) for v in (net, eff, short)]
    return CapacityCurve(*frames, capacity=capacity_of(frames[0]))


def capacity_of(net: pd.DataFrame) -> pd.Series:
    """Per column of ``net`` (rows: ascending sizes), the size where it first crosses from > 0 to <= 0."""
    sizes = net.index.to_numpy(dtype=float)
    out = {}
    for col in net.columns:
        y = net[col].to_numpy()
        below = np.flatnonzero(y <= 0)
        if (y == 0).all():  # never trades at any size: no capacity to speak of
            out[col] = np.nan
        elif below.size == 0:
            out[col] = np.inf
        elif below[0] == 0:
            out[col] = 0.0
        else:
            i = below[0]
            out[col] = sizes[i - 1] + (sizes[i] - sizes[i - 1]) * y[i - 1] / (y[i - 1] - y[i])
    return pd.Series(out, name="capacity", dtype=float)


def _sizes(sizes: Any) -> np.ndarray:
    """Distinct whole sizes >= 1, ascending."""
    what = "a non-empty list of distinct whole sizes >= 1 (shares)"
    if isinstance(sizes, str) or not hasattr(sizes, "__len__"):
        raise TypeError(expected("sizes", what, sizes))
    arr = np.asarray(sizes)
    if arr.dtype == bool or arr.dtype.kind not in "iuf" or arr.ndim != 1:
        raise TypeError(expected("sizes", what, sizes))
    ok = arr.size > 0 and np.isfinite(arr).all() and (arr >= 1).all() and (arr == np.round(arr)).all()
    if not ok or np.unique(arr).size != arr.size:
        raise ValueError(expected("sizes", what, sizes))
    return np.sort(arr.astype(np.int64))
