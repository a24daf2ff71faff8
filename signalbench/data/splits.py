"""Splits by time only, with purging: no training row may see what a test row is scored on.

Row ``t`` of a sequence model reads the input rows ``t - seq_len + 1 .. t`` and is scored on a label built from
rows ``t .. t + horizon``; call ``[t - seq_len + 1, t + horizon]`` the row's *span*. Two rows in different parts of a
split must have disjoint spans, which needs ``|s - t| >= horizon + seq_len``. Every function here keeps at least
``gap >= horizon + seq_len`` rows strictly between a training (or validation) row and a row of a later part, so spans
never touch; rows too close to a boundary are dropped (purged) from the earlier part.

All functions return sorted int64 arrays of **row positions** (``iloc``) of rows that are usable: their span lies
inside the data (``t >= seq_len - 1`` and ``t + horizon <= n - 1``) and, when ``groups`` (e.g. the ``day`` column) is
given, inside a single group, so no window and no label crosses a day boundary. To fit or predict a sequence model on
one part, pass it through :func:`with_context`, which adds the ``seq_len - 1`` rows of context before the part and
sets the labels outside it to NaN: ``X[idx]`` alone would leave the part's first ``seq_len - 1`` rows without a full
window. For contiguous blocks the positions also serve as ``start``/``stop`` rows of
:func:`signalbench.data.windowing.iter_batches`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from signalbench._validation import expected, integer, number, numeric_array
from signalbench.data._inputs import group_bounds, group_ids, row_positions

__all__ = [
    "PartWithContext",
    "Split",
    "purged_kfold",
    "train_val_test_split",
    "usable_rows",
    "walk_forward_splits",
    "with_context",
]


class Split(NamedTuple):
    """Chronological train/validation/test row positions (int64 arrays), in that order in time."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


class _Plan(NamedTuple):
    """The checked sizes every split function starts from."""

    n: int
    horizon: int
    seq_len: int
    gap: int

    def too_few(self, what: str, detail: str) -> ValueError:
        found = (
            f"too few rows: n={self.n} with horizon={self.horizon}, seq_len={self.seq_len} and a purge gap of "
            f"{self.gap} rows ({detail})"
        )
        return ValueError(expected("n", f"enough rows for {what}", found, raw=True))


def _plan(n, horizon, seq_len, gap) -> _Plan:
    n = integer(n, "n", minimum=0)
    horizon = integer(horizon, "horizon", minimum=0)
    seq_len = integer(seq_len, "seq_len", minimum=1)
    minimum = horizon + seq_len
    gap = minimum if gap is None else integer(gap, "gap", minimum=0)
    if gap < minimum:
        raise ValueError(
            expected(
                "gap",
                f"at least horizon + seq_len = {horizon} + {seq_len} = {minimum} rows between parts (the purge)",
                gap,
            )
        )
    return _Plan(n, horizon, seq_len, gap)


def usable_rows(n: int, *, horizon: int, seq_len: int, groups=None) -> np.ndarray:
    """Rows whose input window and label both lie inside the data (and inside one group).

    Parameters
    ----------
    n : int
        Number of rows.
    horizon : int
        Label horizon (rows ahead the label reads).
    seq_len : int
        Input window length.
    groups : array-like, optional
        Group labels (days) per row, contiguous runs.

    Returns
    -------
    numpy.ndarray
        Int64 row positions ``t`` with ``start(t) <= t - seq_len + 1`` and ``t + horizon <= end(t)``, where
        ``start``/``end`` are the first/last row of ``t``'s group (of the data without groups).
    """
    plan = _plan(n, horizon, seq_len, None)
    return _usable(plan, groups)


def _usable(plan: _Plan, groups) -> np.ndarray:
    first, last = group_bounds(group_ids(groups, plan.n))
    rows = np.arange(plan.n, dtype=np.int64)
    return rows[(rows - plan.seq_len + 1 >= first) & (rows + plan.horizon <= last)]


def _purge_before(rows: np.ndarray, nxt: int, gap: int) -> np.ndarray:
    """The rows that lie more than ``gap`` rows before row ``nxt``."""
    return rows[rows < nxt - gap]


def train_val_test_split(
    n: int,
    *,
    horizon: int,
    seq_len: int,
    val_size: float = 0.15,
    test_size: float = 0.15,
    gap: int | None = None,
    groups=None,
) -> Split:
    """Chronological train / validation / test split with a purge gap between consecutive parts.

    The usable rows (:func:`usable_rows`) are cut by count: the last ``round(test_size * m)`` are the test part,
    the ``round(val_size * m)`` before them the validation part, the rest training. Then the rows of each earlier
    part that lie within ``gap`` rows of the next part's first row are dropped, so at least ``gap`` rows lie strictly
    between the parts.

    Parameters
    ----------
    n : int
        Number of rows.
    horizon : int
        Label horizon in rows.
    seq_len : int
        Input window length in rows.
    val_size, test_size : float, default 0.15
        Fractions of the usable rows (``val_size=0`` gives an empty validation part and one gap).
    gap : int, optional
        Rows strictly between parts; default and minimum ``horizon + seq_len``.
    groups : array-like, optional
        Day labels: rows whose window or label would cross a day boundary are not usable.

    Returns
    -------
    Split
        ``(train, val, test)`` int64 row positions.

    Raises
    ------
    ValueError
        For invalid arguments, a gap below ``horizon + seq_len``, or too few rows to leave every requested part
        non-empty after purging.
    """
    plan = _plan(n, horizon, seq_len, gap)
    val_size = number(val_size, "val_size", low=0.0, high=1.0, high_open=True)
    test_size = number(test_size, "test_size", low=0.0, high=1.0, low_open=True, high_open=True)
    if val_size + test_size >= 1.0:
        raise ValueError(
            expected("val_size + test_size", "a sum < 1 (training needs rows)", f"{val_size} + {test_size}", raw=True)
        )
    rows = _usable(plan, groups)
    m = rows.size
    n_test = max(1, round(test_size * m))
    n_val = max(1, round(val_size * m)) if val_size > 0 else 0
    if m - n_test - n_val < 1:
        raise plan.too_few("a train/val/test split", f"only {m} usable rows")
    test = rows[m - n_test :]
    val = _purge_before(rows[m - n_test - n_val : m - n_test], test[0], plan.gap)
    train = _purge_before(rows[: m - n_test - n_val], val[0] if val.size else test[0], plan.gap)
    if train.size == 0 or (n_val and val.size == 0):
        need = 2 * plan.gap + 3 if n_val else plan.gap + 2
        raise plan.too_few(
            "a train/val/test split",
            f"{m} usable rows; each part needs at least one row left after purging, so at least {need} usable "
            "rows and more for these fractions",
        )
    return Split(train, val, test)


def walk_forward_splits(
    n: int,
    *,
    horizon: int,
    seq_len: int,
    n_folds: int = 5,
    test_size: int | None = None,
    train_size: int | None = None,
    gap: int | None = None,
    groups=None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Walk-forward folds: train on the past, test on the next block, move forward.

    The last ``n_folds * test_size`` usable rows form ``n_folds`` consecutive test blocks. Fold ``i`` trains on the
    usable rows that end at least ``gap`` rows before its test block: all of them (expanding window,
    ``train_size=None``) or the last ``train_size`` (rolling window). This generates the folds only; the evaluation
    that fits and prices a model on them is a separate function.

    Parameters
    ----------
    n : int
        Number of rows.
    horizon : int
        Label horizon in rows.
    seq_len : int
        Input window length in rows.
    n_folds : int, default 5
        Number of folds.
    test_size : int, optional
        Usable rows per test block; default ``m // (n_folds + 1)`` for ``m`` usable rows.
    train_size : int, optional
        Rolling training window in usable rows; ``None`` expands.
    gap : int, optional
        Rows strictly between training and test rows; default and minimum ``horizon + seq_len``.
    groups : array-like, optional
        Day labels (see :func:`usable_rows`).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(train, test)`` int64 row positions per fold, in time order.

    Raises
    ------
    ValueError
        For invalid arguments or when a fold would have no training or test rows.
    """
    plan = _plan(n, horizon, seq_len, gap)
    k = integer(n_folds, "n_folds", minimum=1)
    rows = _usable(plan, groups)
    m = rows.size
    ts = m // (k + 1) if test_size is None else integer(test_size, "test_size", minimum=1)
    train_size = integer(train_size, "train_size", minimum=1, allow_none=True)
    what = f"{k} walk-forward folds"
    if ts < 1 or k * ts >= m:
        raise plan.too_few(what, f"{m} usable rows, test blocks of {ts} rows")
    folds = []
    for i in range(k):
        lo = m - (k - i) * ts
        test = rows[lo : lo + ts]
        train = _purge_before(rows[:lo], test[0], plan.gap)
        if train_size is not None:
            train = train[-train_size:]
        if train.size == 0:
            raise plan.too_few(what, f"fold {i} has no training row left before its test block at row {int(test[0])}")
        folds.append((train, test))
    return folds


def purged_kfold(
    n: int,
    *,
    horizon: int,
    seq_len: int,
    n_folds: int = 5,
    embargo: int = 0,
    gap: int | None = None,
    groups=None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Purged K-fold cross-validation with an embargo (Lopez de Prado, *Advances in Financial ML*, ch. 7).

    The usable rows are cut into ``n_folds`` contiguous test blocks (``numpy.array_split`` sizes). For each block
    ``[a, b]`` the training rows are the usable rows with ``t < a - gap`` (purged before) or
    ``t > b + gap + embargo`` (purged and embargoed after): training rows on both sides of the test block, none
    whose span touches it, and an extra ``embargo`` rows skipped after it against serial correlation.

    Parameters
    ----------
    n : int
        Number of rows.
    horizon : int
        Label horizon in rows.
    seq_len : int
        Input window length in rows.
    n_folds : int, default 5
        Number of folds (>= 2).
    embargo : int, default 0
        Extra rows dropped from training after each test block.
    gap : int, optional
        Purge distance; default and minimum ``horizon + seq_len``.
    groups : array-like, optional
        Day labels (see :func:`usable_rows`).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(train, test)`` int64 row positions per fold; the test blocks cover every usable row once.

    Raises
    ------
    ValueError
        For invalid arguments or when a fold would have no test or no training rows.
    """
    plan = _plan(n, horizon, seq_len, gap)
    k = integer(n_folds, "n_folds", minimum=2)
    embargo = integer(embargo, "embargo", minimum=0)
    rows = _usable(plan, groups)
    if rows.size < k:
        raise plan.too_few(f"{k} purged folds", f"only {rows.size} usable rows")
    folds = []
    for i, test in enumerate(np.array_split(rows, k)):
        a, b = int(test[0]), int(test[-1])
        train = rows[(rows < a - plan.gap) | (rows > b + plan.gap + embargo)]
        if train.size == 0:
            raise plan.too_few(
                f"{k} purged folds", f"fold {i} (test rows {a}..{b}) has no training row left after purging and embargo"
            )
        folds.append((train, test))
    return folds


class PartWithContext(NamedTuple):
    """What :func:`with_context` returns: one split part with the rows of context before it.

    Attributes
    ----------
    X : numpy.ndarray or pandas.DataFrame
        Rows ``start .. rows[-1]`` of the features (the part and the ``seq_len - 1`` rows before its first row).
    y : numpy.ndarray or pandas.Series or pandas.DataFrame
        The labels of the same rows, float64, NaN on every row that is not in the part (so no row outside it is
        trained on or scored).
    start : int
        Row position in the full data of ``X``'s first row: local row ``i`` is row ``start + i``.
    mask : numpy.ndarray
        Bool, one per row of ``X``: True on the part's rows.
    """

    X: Any
    y: Any
    start: int
    mask: np.ndarray


def with_context(X, y, rows, seq_len: int) -> PartWithContext:
    """One part of a split, ready to fit or predict: its rows plus the ``seq_len - 1`` rows of context before it.

    A sequence model predicts row ``t`` from rows ``t - seq_len + 1 .. t``. Passing only a part's rows (``X[rows]``)
    loses the first ``seq_len - 1`` of them, which have no full window inside the part; taking the rows from
    ``rows[0] - seq_len + 1`` gives every part row its full window, and setting the labels of all other rows to NaN
    keeps the context rows (which may belong to an earlier part) out of the loss and the scores.

    Parameters
    ----------
    X : numpy.ndarray or pandas.DataFrame
        Features of all rows, ``(n, F)`` (or ``(n,)``), in time order.
    y : array-like, pandas.Series or pandas.DataFrame
        Labels of all rows, ``(n,)`` or ``(n, k)``.
    rows : array-like of int
        The part's row positions (sorted, unique), e.g. ``split.test`` from :func:`train_val_test_split`.
    seq_len : int
        Input window length of the model.

    Returns
    -------
    PartWithContext
        ``(X, y, start, mask)``: ``X`` and ``y`` cut to rows ``start = rows[0] - seq_len + 1`` to ``rows[-1]`` (pandas
        input stays pandas, with its index), ``y`` float64 with NaN outside the part, and ``mask`` marking the part's
        rows. ``X`` is a view for NumPy input.

    Raises
    ------
    ValueError
        When ``rows[0] - seq_len + 1 < 0`` (the first row has no full window: use rows from :func:`usable_rows`),
        when ``X`` and ``y`` differ in length, or for rows outside the data.
    """
    for name, value in (("X", X), ("y", y)):
        if not hasattr(value, "__len__") or isinstance(value, str | bytes | dict):
            raise TypeError(expected(name, "an array, Series or DataFrame with one row per row of the data", value))
    n = len(X)
    if len(y) != n:
        raise ValueError(expected("y", f"one label per row of X ({n})", f"{len(y)} rows", raw=True))
    seq_len = integer(seq_len, "seq_len", minimum=1)
    rows = row_positions(rows, n)
    start = int(rows[0]) - seq_len + 1
    if start < 0:
        raise ValueError(
            expected(
                "rows",
                f"a first row >= seq_len - 1 = {seq_len - 1} (a full window of context before it)",
                int(rows[0]),
                hint="take the part's rows from usable_rows or a split",
            )
        )
    stop = int(rows[-1]) + 1
    mask = np.zeros(stop - start, dtype=bool)
    mask[rows - start] = True
    return PartWithContext(_rows(X, start, stop), _masked_labels(y, start, stop, mask), start, mask)


def _rows(data, start: int, stop: int):
    return data.iloc[start:stop] if isinstance(data, pd.Series | pd.DataFrame) else np.asarray(data)[start:stop]


def _masked_labels(y, start: int, stop: int, mask: np.ndarray):
    part = _rows(y, start, stop)
    values, index, columns = numeric_array(part, "y", ndim=(1, 2), allow_inf=True)
    values = values.copy()
    values[~mask] = np.nan
    if isinstance(part, pd.DataFrame):
        return pd.DataFrame(values, index=index, columns=columns)
    if isinstance(part, pd.Series):
        return pd.Series(values, index=index, name=part.name)
    return values
