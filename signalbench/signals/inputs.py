"""The checks and conversions of what ``fit`` and ``predict`` are given: features, targets, complete windows.

Every check follows :mod:`signalbench._validation` (``TypeError`` for a wrong kind, ``ValueError`` for a wrong value,
one message form naming the argument, row and column).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import check_sorted_index, expected, numeric_array, where

__all__ = ["as_matrix", "as_vector", "first_true", "valid_window_rows"]


def first_true(mask: np.ndarray) -> int:
    """Position of the first True of a boolean array (which must hold one)."""
    return int(np.flatnonzero(mask)[0])


def _check_no_inf(X: np.ndarray, name: str, names: list[str] | None) -> None:
    inf = np.isinf(X)
    if inf.any():
        row, col = (int(i) for i in np.argwhere(inf)[0])
        column = names[col] if names else col
        raise ValueError(
            expected(
                name,
                "no infinite values",
                float(X[row, col]),
                at=where(row, column=column),
                raw=True,
                hint="only NaN marks a missing value",
            )
        )


def as_matrix(X: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    """``X`` as a 2-D floating array and its column names (None for arrays).

    A floating NumPy array is used as it is (no copy); anything else is converted to float64 with
    :func:`signalbench._validation.numeric_array` (datetimes, strings and objects are a ``TypeError`` naming the
    column). NaN marks a missing value; infinity is a ``ValueError`` naming the row and column. A DataFrame whose
    index holds timestamps must be in time order (windows are read in row order): otherwise a ``ValueError`` names
    the first row out of order.
    """
    if isinstance(X, pd.Series):
        raise ValueError(expected(name, "2-D input (rows, features)", X, hint="use series.to_frame()"))
    names = None
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names):
            dup = sorted({c for c in names if names.count(c) > 1})
            raise ValueError(expected(name, "unique column names", f"duplicates {dup}", raw=True))
        check_sorted_index(X.index, name)
        return _nonempty(numeric_array(X, name, ndim=(2,), allow_inf=False)[0], name), names
    if X is None or isinstance(X, str | bytes | dict):
        raise TypeError(expected(name, "a 2-D array of numbers (rows, features)", X))
    arr = X
    if not isinstance(X, np.ndarray):
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError):  # ragged lists: numeric_array names the problem
            return _nonempty(numeric_array(X, name, ndim=(2,), allow_inf=False)[0], name), None
    if arr.ndim != 2:
        raise ValueError(expected(name, "a 2-D array (rows, features)", f"shape {arr.shape}", raw=True))
    if arr.dtype.kind == "f":
        _check_no_inf(arr, name, None)
    else:
        arr = numeric_array(arr, name, ndim=(2,), allow_inf=False)[0]
    return _nonempty(arr, name), None


def _nonempty(X: np.ndarray, name: str) -> np.ndarray:
    if X.shape[1] == 0:
        raise ValueError(expected(name, "at least one feature column", f"shape {X.shape}", raw=True))
    return X


def as_vector(y: Any, name: str, n: int) -> np.ndarray:
    """``y`` as a float64 vector of ``n`` values (an ``(n, 1)`` input is flattened); NaN marks a missing label."""
    values, _, _ = numeric_array(y, name, ndim=(1, 2), allow_nan=True, allow_inf=False)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(expected(name, "one value per row of X, shape (n,)", f"shape {values.shape}", raw=True))
    if values.shape[0] != n:
        raise ValueError(expected(name, f"{n} rows (one label per row of X)", f"{values.shape[0]}", raw=True))
    return values


def valid_window_rows(X: np.ndarray, seq_len: int) -> np.ndarray:
    """Boolean mask of the rows whose window ``t - seq_len + 1 .. t`` is complete and all finite.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, F)`` features.
    seq_len : int
        Window length.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool; False for ``t < seq_len - 1`` and wherever the window holds a NaN.
    """
    n = X.shape[0]
    bad = ~np.isfinite(X).all(axis=1)
    count = np.concatenate(([0], np.cumsum(bad, dtype=np.int64)))  # count[t + 1] = bad rows in 0..t
    ok = np.zeros(n, dtype=bool)
    if n >= seq_len:
        t = np.arange(seq_len - 1, n)
        ok[seq_len - 1 :] = count[t + 1] - count[t + 1 - seq_len] == 0
    return ok
