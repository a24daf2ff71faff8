"""Input validation and output shaping shared by :func:`~signalbench.engine.backtest` and the oracles.

Every check raises a ``ValueError`` (or ``TypeError``) that names the argument, the offending row (and its pandas
label) and column, and what was expected. Arrays leave here as float64, 2-D and Fortran-ordered (each column
contiguous in time), converted once; costs keep the flexible shapes the kernels index into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange


@dataclass(frozen=True)
class Template:
    """What is needed to give outputs the shape and labels of the inputs."""

    index: pd.Index | None
    columns: pd.Index | None
    one_d: bool
    name: Any = None

    @property
    def is_pandas(self) -> bool:
        return self.index is not None


def wrap_like(arr: np.ndarray, template: Template) -> Any:
    """Give a (n, m) result the form of the input: 1-D for 1-D input, pandas for pandas input."""
    if template.one_d:
        flat = arr[:, 0]
        if template.is_pandas:
            return pd.Series(flat, index=template.index, name=template.name, copy=False)
        return flat
    if template.is_pandas:
        return pd.DataFrame(arr, index=template.index, columns=template.columns, copy=False)
    return arr


def as_2d(value: Any, name: str) -> tuple[np.ndarray, pd.Index | None, pd.Index | None, bool, Any]:
    """A float64 (n, k) view or copy in Fortran order, with the pandas labels it came with."""
    index = columns = label = None
    if isinstance(value, pd.DataFrame):
        index, columns = value.index, value.columns
        try:
            arr = value.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: expected numeric columns, got dtypes {dict(value.dtypes)}") from exc
    elif isinstance(value, pd.Series):
        index, label = value.index, value.name
        try:
            arr = value.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: expected numeric values, got dtype {value.dtype}") from exc
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: expected a numeric array, got {type(value).__name__}") from exc
    one_d = arr.ndim == 1
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim != 2:
        raise ValueError(f"{name}: expected shape (n,) or (n, m), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one row, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one column, got shape {arr.shape}")
    if not arr.flags.f_contiguous:
        arr = np.asfortranarray(arr)
    return arr, index, columns, one_d, label


@njit(cache=True, parallel=True)
def scan_nb(a, limit):
    """Per column: first row that is non-finite, and first row with |a| > limit (-1 if none)."""
    m = a.shape[1]
    out = np.full((2, m), -1, dtype=np.int64)
    for jj in prange(m):
        j = np.int64(jj)  # the prange index is unsigned: unifying it with 0 would give a float
        for t in range(a.shape[0]):
            v = a[t, j]
            if not np.isfinite(v):
                if out[0, j] < 0:
                    out[0, j] = t
            elif abs(v) > limit and out[1, j] < 0:
                out[1, j] = t
    return out


def first_bad(scan_row: np.ndarray) -> tuple[int, int] | None:
    cols = np.flatnonzero(scan_row >= 0)
    if cols.size == 0:
        return None
    rows = scan_row[cols]
    k = int(np.argmin(rows))
    return int(rows[k]), int(cols[k])


def where(row: int, col: int, index: pd.Index | None, columns: pd.Index | None, m: int) -> str:
    at = f"row {row}" + (f" ({index[row]})" if index is not None else "")
    if m > 1:
        at += f", column {columns[col]!r}" if columns is not None else f", column {col}"
    return at


def as_price(price: Any) -> tuple[np.ndarray, Template]:
    arr, index, columns, one_d, label = as_2d(price, "price")
    # prices must be finite and > 0: scan for non-finite, and for values <= 0 via the sign of log
    scan = scan_nb(arr, np.inf)
    bad = first_bad(scan[0])
    if bad is not None:
        row, col = bad
        raise ValueError(
            f"price: expected finite values, got {float(arr[row, col])} at "
            f"{where(row, col, index, columns, arr.shape[1])}"
        )
    nonpos = arr <= 0
    if nonpos.any():
        row, col = np.argwhere(nonpos)[0]  # row-major order: the earliest row first
        raise ValueError(
            f"price: expected values > 0, got {float(arr[row, col])} at "
            f"{where(int(row), int(col), index, columns, arr.shape[1])}"
        )
    return arr, Template(index, columns, one_d, label)


def as_cost(value: Any, name: str, n: int, m: int, per_row: bool, index: pd.Index | None) -> np.ndarray:
    """A cost as a flexibly shaped 2-D array: (1, 1), (1, m), and, when ``per_row``, (n, 1) or (n, m)."""
    if isinstance(value, pd.Series) and per_row and index is not None:
        if not value.index.equals(index):
            raise ValueError(f"{name}: a per-row Series must have exactly the price index")
    if isinstance(value, pd.DataFrame) and index is not None and not value.index.equals(index):
        raise ValueError(f"{name}: a DataFrame of costs must have exactly the price index")
    try:
        arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series | pd.DataFrame) else value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected a number or an array of numbers, got {type(value).__name__}") from exc
    what = "a scalar, a per-column sequence of length m" + (", a per-row array of length n" if per_row else "")
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        is_series = isinstance(value, pd.Series)
        if per_row and arr.shape[0] == n and (is_series or n != m or m == 1):
            arr = arr.reshape(n, 1)
        elif arr.shape[0] == m and not is_series:
            if per_row and n == m and m > 1:
                raise ValueError(
                    f"{name}: a length-{m} sequence is ambiguous when n == m == {m}; pass shape (1, {m}) for "
                    f"per-column or ({n}, 1) (or a Series on the price index) for per-row costs"
                )
            arr = arr.reshape(1, m)
        else:
            raise ValueError(f"{name}: expected {what} (n={n}, m={m}), got length {arr.shape[0]}")
    elif arr.ndim == 2:
        rows_ok = arr.shape[0] == 1 or (per_row and arr.shape[0] == n)
        if not (rows_ok and arr.shape[1] in (1, m)):
            raise ValueError(f"{name}: expected {what} (n={n}, m={m}), got shape {arr.shape}")
    else:
        raise ValueError(f"{name}: expected {what}, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite costs, got non-finite values")
    if (arr < 0).any():
        raise ValueError(f"{name}: expected costs >= 0 basis points, got {float(arr.min())}")
    return np.asfortranarray(arr)


def check_delay(delay: Any) -> int:
    if isinstance(delay, bool) or not isinstance(delay, int | np.integer):
        raise TypeError(f"delay: expected a non-negative integer number of bars, got {delay!r}")
    if delay < 0:
        raise ValueError(f"delay: expected a non-negative integer number of bars, got {delay}")
    return int(delay)


def prepare_oracle_inputs(
    price: Any, fee_bps: Any, half_spread_bps: Any, slippage_bps: Any, delay: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Template]:
    p2, template = as_price(price)
    n, m = p2.shape
    check_delay(delay)
    fee = as_cost(fee_bps, "fee_bps", n, m, False, template.index)
    hs = as_cost(half_spread_bps, "half_spread_bps", n, m, True, template.index)
    slip = as_cost(slippage_bps, "slippage_bps", n, m, False, template.index)
    return p2, fee, hs, slip, template
