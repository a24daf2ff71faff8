"""Splits by time only, with purging: no training row may see what a test row is scored on.

Row ``t`` of a sequence model reads the input rows ``t - seq_len + 1 .. t`` and is scored on a label built from
rows ``t .. t + horizon``; call ``[t - seq_len + 1, t + horizon]`` the row's *span*. Two rows in different parts of a
split must have disjoint spans, which needs ``|s - t| >= horizon + seq_len``. Every function here keeps at least
``gap >= horizon + seq_len`` rows strictly between a training (or validation) row and a row of a later part, so spans
never touch; rows too close to a boundary are dropped (purged) from the earlier part.

All functions return sorted int64 arrays of **row positions** (``iloc``) of rows that are usable: their span lies
inside the data (``t >= seq_len - 1`` and ``t + horizon <= n - 1``) and, when ``groups`` (e.g. the ``day`` column) is
given, inside a single group, so no window and no label crosses a day boundary. Use them as ``X[idx]``, or as the
``start``/``stop`` rows of :func:`signalbench.data.windows.iter_batches` for contiguous blocks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from signalbench.data.features import group_ids

__all__ = ["Split", "purged_kfold", "train_val_test_split", "usable_rows", "walk_forward"]


class Split(NamedTuple):
    """Chronological train/validation/test row positions (int64 arrays), in that order in time."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _common(n, horizon, seq_len, gap):
    n = _int(n, "n", 0)
    horizon = _int(horizon, "horizon", 0)
    seq_len = _int(seq_len, "seq_len", 1)
    minimum = horizon + seq_len
    if gap is None:
        gap = minimum
    gap = _int(gap, "gap", 0)
    if gap < minimum:
        raise ValueError(
            f"gap={gap} is too small: purging needs at least horizon + seq_len = {horizon} + {seq_len} = {minimum} "
            "rows between parts"
        )
    return n, horizon, seq_len, gap


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
    n, horizon, seq_len, _ = _common(n, horizon, seq_len, None)
    gid = group_ids(groups, n)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    new = np.r_[True, gid[1:] != gid[:-1]]
    first = np.maximum.accumulate(np.where(new, rows, 0))
    last_flag = np.r_[gid[1:] != gid[:-1], True]
    last = np.minimum.accumulate(np.where(last_flag, rows, n)[::-1])[::-1]
    ok = (rows - seq_len + 1 >= first) & (rows + horizon <= last)
    return rows[ok]


def _too_few(what, n, horizon, seq_len, gap, detail):
    return ValueError(
        f"too few rows for {what}: n={n} with horizon={horizon}, seq_len={seq_len} and a purge gap of {gap} rows "
        f"({detail})"
    )


def _fraction(value, name):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value!r}")
    return value


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
    n, horizon, seq_len, gap = _common(n, horizon, seq_len, gap)
    val_size = _fraction(val_size, "val_size")
    test_size = _fraction(test_size, "test_size")
    if test_size == 0.0:
        raise ValueError("test_size must be > 0")
    if val_size + test_size >= 1.0:
        raise ValueError(f"val_size + test_size must be < 1, got {val_size} + {test_size}")
    rows = usable_rows(n, horizon=horizon, seq_len=seq_len, groups=groups)
    m = rows.size
    n_test = max(1, round(test_size * m))
    n_val = max(1, round(val_size * m)) if val_size > 0 else 0
    need = 2 * gap + 3 if n_val else gap + 2
    if m - n_test - n_val < 1:
        raise _too_few("a train/val/test split", n, horizon, seq_len, gap, f"only {m} usable rows")
    test = rows[m - n_test :]
    val = rows[m - n_test - n_val : m - n_test]
    val = val[val < test[0] - gap]
    nxt = val[0] if val.size else test[0]
    train = rows[: m - n_test - n_val]
    train = train[train < nxt - gap]
    if train.size == 0 or (n_val and val.size == 0):
        raise _too_few(
            "a train/val/test split",
            n,
            horizon,
            seq_len,
            gap,
            f"{m} usable rows; each part needs at least one row left after purging, so at least {need} usable "
            "rows and more for these fractions",
        )
    return Split(train, val, test)


def walk_forward(
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
    ``train_size=None``) or the last ``train_size`` (rolling window).

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
    n, horizon, seq_len, gap = _common(n, horizon, seq_len, gap)
    k = _int(n_folds, "n_folds", 1)
    rows = usable_rows(n, horizon=horizon, seq_len=seq_len, groups=groups)
    m = rows.size
    ts = m // (k + 1) if test_size is None else _int(test_size, "test_size", 1)
    if train_size is not None:
        train_size = _int(train_size, "train_size", 1)
    if ts < 1 or k * ts >= m:
        raise _too_few(
            f"{k} walk-forward folds", n, horizon, seq_len, gap, f"{m} usable rows, test blocks of {ts} rows"
        )
    folds = []
    for i in range(k):
        lo = m - (k - i) * ts
        test = rows[lo : lo + ts]
        train = rows[:lo]
        train = train[train < test[0] - gap]
        if train_size is not None:
            train = train[-train_size:]
        if train.size == 0:
            raise _too_few(
                f"{k} walk-forward folds",
                n,
                horizon,
                seq_len,
                gap,
                f"fold {i} has no training row left before its test block at row {int(test[0])}",
            )
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
    n, horizon, seq_len, gap = _common(n, horizon, seq_len, gap)
    k = _int(n_folds, "n_folds", 2)
    embargo = _int(embargo, "embargo", 0)
    rows = usable_rows(n, horizon=horizon, seq_len=seq_len, groups=groups)
    if rows.size < k:
        raise _too_few(f"{k} purged folds", n, horizon, seq_len, gap, f"only {rows.size} usable rows")
    folds = []
    for i, test in enumerate(np.array_split(rows, k)):
        a, b = int(test[0]), int(test[-1])
        train = rows[(rows < a - gap) | (rows > b + gap + embargo)]
        if train.size == 0:
            raise _too_few(
                f"{k} purged folds",
                n,
                horizon,
                seq_len,
                gap,
                f"fold {i} (test rows {a}..{b}) has no training row left after purging and embargo",
            )
        folds.append((train, test))
    return folds
