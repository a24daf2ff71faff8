"""The strategies' one pandas in/out converter and their input checks (private).

Every rule converts its inputs once here, through :func:`signalbench._validation.numeric_array`: pandas
objects become float64 NumPy arrays plus their index and columns, a time index must be sorted, and the
result is wrapped back into pandas with that index when the input was pandas. Wrong kinds (strings,
datetimes, timedeltas, objects) are ``TypeError``; wrong values (shape, range, NaN where none may be,
misaligned indexes) are ``ValueError``, in the one message form of ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import check_sorted_index, expected, numeric_array, where

# Rows of a probability array must sum to 1 within this tolerance.
SUM_TOL = 1e-6

_P_UP_HINT = "for a 1-D P(up) array pass np.column_stack([1 - p_up, p_up])"


def as_values(
    x: Any,
    name: str,
    n: int | None = None,
    *,
    ndim: tuple[int, ...] = (1,),
    allow_nan: bool = True,
) -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    """Numeric input (NumPy or pandas) -> ``(float64 values, index, columns)``, checked.

    ``n`` fixes the number of rows (one per bar). Infinite values are always a ``ValueError``; NaN is one
    unless ``allow_nan``. A pandas time index must be sorted. ``index``/``columns`` are None for NumPy input.
    """
    values, index, columns = numeric_array(x, name, ndim=ndim, allow_nan=allow_nan)
    if n is not None and values.shape[0] != n:
        raise ValueError(
            expected(name, f"{n} rows (one per bar, like the first input)", f"{values.shape[0]}", raw=True)
        )
    check_sorted_index(index, name)
    return values, index, columns


def as_proba(proba: Any, name: str = "proba") -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    """Validate an (n, k) class-probability array.

    Returns ``(values, index, columns)``: a float64 (n, k) array with k in {2, 3} whose rows are either all
    NaN (no prediction yet) or valid probability vectors, plus the index and columns of a DataFrame input
    (None for NumPy input). Class order: k=2 ``[down, up]``, k=3 ``[down, stationary, up]``.
    """
    ndim = getattr(proba, "ndim", None)
    if isinstance(ndim, int) and ndim != 2:
        raise ValueError(expected(name, "a 2-D (n, k) array of class probabilities", proba, hint=_P_UP_HINT))
    values, index, columns = as_values(proba, name, ndim=(2,))
    k = values.shape[1]
    if k not in (2, 3):
        raise ValueError(
            expected(name, "2 columns [down, up] or 3 columns [down, stationary, up]", f"{k} columns", raw=True)
        )
    row_nan = np.isnan(values).all(axis=1)
    _check_rows(values, row_nan, np.isnan(values).any(axis=1), name, index, "each row all NaN or all numbers")
    with np.errstate(invalid="ignore"):
        _check_rows(values, row_nan, (values < 0).any(axis=1), name, index, "probabilities >= 0")
        _check_rows(values, row_nan, (values > 1).any(axis=1), name, index, "probabilities <= 1")
        off = np.abs(values.sum(axis=1) - 1.0) > SUM_TOL
    _check_rows(
        values,
        row_nan,
        off,
        name,
        index,
        f"rows that sum to 1 (within {SUM_TOL:g})",
        hint="pass class probabilities, not logits or scores",
    )
    return values, index, columns


def _check_rows(
    values: np.ndarray,
    row_nan: np.ndarray,
    bad: np.ndarray,
    name: str,
    index: pd.Index | None,
    what: str,
    hint: str = "",
) -> None:
    """``ValueError`` naming the first row (that is not all NaN) where ``bad`` holds."""
    rows = np.flatnonzero(bad & ~row_nan)
    if rows.size:
        i = int(rows[0])
        raise ValueError(expected(name, what, values[i].tolist(), at=where(i, index=index), hint=hint))


def check_same_index(index: pd.Index | None, other: pd.Index | None, name: str, reference: str) -> None:
    """``ValueError`` when two pandas inputs of the same length are not aligned row by row."""
    if index is None or other is None or index.equals(other):
        return
    diff = np.flatnonzero(np.asarray(index != other))
    k = int(diff[0]) if diff.size else 0
    raise ValueError(
        expected(
            f"{name}'s index",
            f"the index of {reference} (rows are aligned by position)",
            f"{other[k]!r} instead of {index[k]!r}",
            at=f"row {k}",
            raw=True,
            hint=f"align it first (e.g. {name}.reindex({reference}.index))"
            if name.isidentifier() and reference.isidentifier()
            else "align the inputs first (e.g. with .reindex)",
        )
    )


def check_columns(values: np.ndarray, m: int, name: str, reference: str) -> None:
    """``ValueError`` unless a 2-D input has ``m`` columns, the number ``reference`` has."""
    if values.ndim == 2 and values.shape[1] not in (1, m):
        what = "1 column" if m == 1 else f"1 or {m} columns"
        raise ValueError(expected(name, f"{what} (like {reference})", f"{values.shape[1]}", raw=True))


def as_columns(values: np.ndarray, m: int, dtype: Any = np.float64) -> np.ndarray:
    """(n,), (n, 1) or (n, m) -> a C-contiguous, writable (n, m) array of ``dtype`` (one Numba signature a kernel)."""
    if values.ndim == 1:
        values = values[:, None]
    if values.shape[1] == 1 and m != 1:
        values = np.broadcast_to(values, (values.shape[0], m))
    return np.require(values, dtype=dtype, requirements=["C", "W"])


def check_cells(values: np.ndarray, bad: np.ndarray, name: str, what: str, index: pd.Index | None) -> None:
    """``ValueError`` naming the first row (and its value) where the mask ``bad`` holds."""
    if bad.any():
        cell = tuple(np.argwhere(bad)[0])
        found = repr(float(values[cell]))
        raise ValueError(expected(name, what, found, at=where(int(cell[0]), index=index), raw=True))


def check_positions(values: np.ndarray, name: str, index: pd.Index | None) -> None:
    """``ValueError`` naming the first row with a position outside [-1, 1] (NaN means flat and passes)."""
    with np.errstate(invalid="ignore"):
        check_cells(values, np.abs(values) > 1, name, "positions in [-1, 1]", index)


def wrap(values: np.ndarray, index: pd.Index | None, columns: pd.Index | None = None) -> Any:
    """Return ``values`` as NumPy, or as pandas with ``index`` (and ``columns``) when the input was pandas."""
    if index is None:
        return values
    if values.ndim == 1:
        return pd.Series(values, index=index, name="position")
    return pd.DataFrame(values, index=index, columns=columns)


__all__ = [
    "SUM_TOL",
    "as_columns",
    "as_proba",
    "as_values",
    "check_cells",
    "check_columns",
    "check_positions",
    "check_same_index",
    "wrap",
]
