"""Input validation and pandas in/out for the position rules (private).

Every public rule converts its inputs once here: pandas objects become float64 numpy arrays plus
their index, and the result is wrapped back into pandas with that index when the input was pandas.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

# Rows of a probability array must sum to 1 within this tolerance.
SUM_TOL = 1e-6


def as_proba(proba: Any, name: str = "proba") -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    """Validate an (n, k) class-probability array.

    Returns ``(values, index, columns)``: a float64 (n, k) array with k in {2, 3} whose rows are
    either all NaN (no prediction yet) or valid probability vectors, plus the index and columns of
    a DataFrame input (``None`` for numpy input). Class order: k=2 ``[down, up]``, k=3
    ``[down, stationary, up]``.
    """
    index = columns = None
    if isinstance(proba, pd.DataFrame):
        index, columns = proba.index, proba.columns
        raw = proba.to_numpy()
    elif isinstance(proba, pd.Series):
        raise ValueError(
            f"{name} must be a 2-D (n, k) array of class probabilities, got a pandas Series; "
            "for a 1-D P(up) series pass a two-column frame [1 - p_up, p_up]"
        )
    else:
        raw = proba
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric (n, k) array of class probabilities: {exc}") from None
    if values.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (n, k) array of class probabilities, got ndim={values.ndim} "
            f"(shape {values.shape}); for a 1-D P(up) array pass np.column_stack([1 - p_up, p_up])"
        )
    k = values.shape[1]
    if k not in (2, 3):
        raise ValueError(f"{name} must have 2 columns [down, up] or 3 columns [down, stationary, up], got {k}")
    nan = np.isnan(values)
    row_nan = nan.all(axis=1)
    partial = nan.any(axis=1) & ~row_nan
    if partial.any():
        i = int(np.flatnonzero(partial)[0])
        raise ValueError(
            f"{name} row {i} is partly NaN ({values[i].tolist()}); a row must be all NaN (no "
            "prediction: flat) or a full probability vector"
        )
    ok = values[~row_nan]
    if ok.size:
        if not np.isfinite(ok).all():
            raise ValueError(f"{name} contains infinite values; probabilities must lie in [0, 1]")
        if (ok < 0).any():
            i = _first_row(values, row_nan, lambda v: (v < 0).any(axis=1))
            raise ValueError(f"{name} has negative probabilities (first at row {i}: {values[i].tolist()})")
        if (ok > 1).any():
            i = _first_row(values, row_nan, lambda v: (v > 1).any(axis=1))
            raise ValueError(f"{name} has probabilities above 1 (first at row {i}: {values[i].tolist()})")
        sums = ok.sum(axis=1)
        if (np.abs(sums - 1.0) > SUM_TOL).any():
            i = _first_row(values, row_nan, lambda v: np.abs(v.sum(axis=1) - 1.0) > SUM_TOL)
            raise ValueError(
                f"{name} rows must sum to 1 within {SUM_TOL:g} (row {i} sums to "
                f"{values[i].sum():.10g}); pass class probabilities, not logits or scores"
            )
    return values, index, columns


def _first_row(values: np.ndarray, row_nan: np.ndarray, bad: Any) -> int:
    with np.errstate(invalid="ignore"):
        mask = bad(values) & ~row_nan
    return int(np.flatnonzero(mask)[0])


def as_series_values(
    x: Any, name: str, n: int | None = None, *, allow_nan: bool = True, allow_2d: bool = False
) -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    """Convert a 1-D (or, with ``allow_2d``, 2-D) numeric input to float64 with its pandas labels."""
    index = columns = None
    if isinstance(x, pd.Series):
        index = x.index
        raw = x.to_numpy()
    elif isinstance(x, pd.DataFrame):
        index, columns = x.index, x.columns
        raw = x.to_numpy()
    else:
        raw = x
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    allowed = (1, 2) if allow_2d else (1,)
    if values.ndim not in allowed:
        shape = "(n,) or (n, m)" if allow_2d else "(n,)"
        raise ValueError(f"{name} must have shape {shape}, got shape {values.shape}")
    if n is not None and values.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows (one per bar), got {values.shape[0]}")
    if np.isinf(values).any():
        raise ValueError(f"{name} contains infinite values")
    if not allow_nan and np.isnan(values).any():
        raise ValueError(f"{name} contains NaN values")
    return values, index, columns


def check_same_index(index: pd.Index | None, other: pd.Index | None, name: str) -> None:
    """Raise when two pandas inputs are not aligned row by row."""
    if index is not None and other is not None and not index.equals(other):
        raise ValueError(f"{name} must have the same index as the other inputs (rows are aligned by position)")


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Validate a finite real scalar inside an interval and return it as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value!r}")
    return v


def wrap(values: np.ndarray, index: pd.Index | None, columns: pd.Index | None = None) -> Any:
    """Return ``values`` as numpy, or as pandas with ``index`` when the input was pandas."""
    if index is None:
        return values
    if values.ndim == 1:
        return pd.Series(values, index=index, name="position")
    return pd.DataFrame(values, index=index, columns=columns)
