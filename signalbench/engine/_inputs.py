"""The engine's one pandas in/out converter: arrays in, checked once at the edge, and results back in their form.

Every public engine function (``backtest``, the oracles, the statistics, the deflated Sharpe and PBO) converts its
array arguments here, with :mod:`signalbench._validation`'s checks and message form (``docs/architecture.md``):
datetimes, timedeltas, strings and objects where numbers are expected are a ``TypeError`` naming the argument and
column; non-finite values, wrong shapes and timestamps out of time order are a ``ValueError`` naming the row (and
its pandas label) and column. Arrays leave as float64, 2-D and Fortran-ordered (each column contiguous in time);
costs keep the flexible shapes the kernels index into (:func:`signalbench.engine.kernels.flex`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange

from signalbench._validation import (
    boolean,
    check_sorted_index,
    choice,
    expected,
    integer,
    number,
    numeric_array,
    where,
)
from signalbench.engine.periods import checked_periods_per_year

#: How returns accumulate into equity: ``cumprod(1 + r)`` or ``1 + cumsum(r)``.
MODES = ("compound", "additive")


@dataclass(frozen=True)
class Template:
    """What is needed to give outputs the shape and labels of the inputs.

    Attributes
    ----------
    index, columns : pandas.Index or None
        The pandas labels the input came with (None for NumPy input).
    one_d : bool
        Whether the input was one-dimensional (a Series or an (n,) array).
    name : Any
        The Series name, if any.
    """

    index: pd.Index | None
    columns: pd.Index | None
    one_d: bool
    name: Any = None

    @property
    def is_pandas(self) -> bool:
        """Whether the input carried pandas labels."""
        return self.index is not None

    def labels(self, m: int) -> list[Any]:
        """Column labels for ``m`` columns: the DataFrame's columns, the Series name, else positions."""
        if self.columns is not None:
            return list(self.columns)
        if self.one_d and self.name is not None:
            return [self.name]
        return list(range(m))


def as_2d(
    value: Any, name: str, *, min_rows: int = 1, allow_nan: bool = True, allow_bool: bool = True
) -> tuple[np.ndarray, Template]:
    """Numbers as a float64 (n, k) array in Fortran order (a view where possible), with the labels they came with.

    Parameters
    ----------
    value : array-like, Series or DataFrame, shape (n,) or (n, k)
        The argument.
    name : str
        Its name, for messages.
    min_rows : int, default 1
        The fewest rows accepted (0 for statistics of an empty series).
    allow_nan : bool, default True
        Whether NaN and infinity are accepted (then the caller checks what it needs); if not, a ValueError.
    allow_bool : bool, default True
        Whether booleans are read as 0/1.

    Raises
    ------
    TypeError
        Datetime, timedelta, string, object or complex data.
    ValueError
        A shape other than (n,) or (n, k), too few rows, no columns, NaN (unless allowed), timestamps out of order.
    """
    if allow_nan and _plain_numeric_frame(value, allow_bool) and len(value) >= min_rows:
        # the common case of a float frame: one conversion (a view of a single float block), no per-column copy
        arr, index, columns = value.to_numpy(dtype=np.float64), value.index, value.columns
    else:
        arr, index, columns = numeric_array(
            value, name, allow_nan=allow_nan, allow_inf=allow_nan, allow_bool=allow_bool, min_rows=min_rows
        )
    check_sorted_index(index, name)
    one_d = arr.ndim == 1
    if one_d:
        arr = arr.reshape(-1, 1)
    elif arr.shape[1] == 0:
        raise ValueError(expected(name, "at least one column", f"shape {arr.shape}", raw=True))
    if not arr.flags.f_contiguous:
        arr = np.asfortranarray(arr)
    label = value.name if isinstance(value, pd.Series) else None
    return arr, Template(index, columns, one_d, label)


def _plain_numeric_frame(value: Any, allow_bool: bool) -> bool:
    """A DataFrame whose columns all have plain NumPy numeric dtypes (what numeric_array would accept as is)."""
    kinds = "fiub" if allow_bool else "fiu"
    return isinstance(value, pd.DataFrame) and all(
        isinstance(dtype, np.dtype) and dtype.kind in kinds for dtype in value.dtypes
    )


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


def wrap_per_column(values: np.ndarray, template: Template) -> Any:
    """One value per column in the form of the input: a float for 1-D input, a Series for a DataFrame."""
    if template.one_d:
        return float(values[0])
    if template.columns is not None:
        return pd.Series(values, index=template.columns)
    return values


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


def _first_bad(scan_row: np.ndarray) -> tuple[int, int] | None:
    """The earliest (row, column) flagged in one row of :func:`scan_nb`'s output, or None."""
    cols = np.flatnonzero(scan_row >= 0)
    if cols.size == 0:
        return None
    rows = scan_row[cols]
    k = int(np.argmin(rows))
    return int(rows[k]), int(cols[k])


def _at(row: int, col: int, template: Template, m: int) -> str:
    """``row 7 (label), column 'b'``; the column only when there is more than one."""
    column = None
    if m > 1:
        column = template.columns[col] if template.columns is not None else col
    return where(row, index=template.index, column=column)


def as_price(price: Any) -> tuple[np.ndarray, Template]:
    """Prices as (n, k) float64: finite and > 0, with a time index (if any) sorted in time."""
    arr, template = as_2d(price, "price", allow_nan=False, allow_bool=False)
    nonpos = arr <= 0
    if nonpos.any():
        row, col = np.argwhere(nonpos)[0]  # row-major order: the earliest row first
        at = _at(int(row), int(col), template, arr.shape[1])
        raise ValueError(expected("price", "values > 0", f"{float(arr[row, col])}", at=at, raw=True))
    return arr, template


def check_positions(pos: np.ndarray, template: Template, max_leverage: float, *, of_many: bool = False) -> None:
    """``ValueError`` naming the first row of a non-finite position or one with |position| > ``max_leverage``.

    The column is named when there are several, or when ``pos`` is one chunk of many (``of_many``).
    """
    scan = scan_nb(pos, max_leverage + 1e-12)
    m = 2 if of_many else pos.shape[1]
    bad = _first_bad(scan[0])
    if bad is not None:
        row, col = bad
        got = f"{float(pos[row, col])}"
        raise ValueError(expected("position", "finite values", got, at=_at(row, col, template, m), raw=True))
    bad = _first_bad(scan[1])
    if bad is not None:
        row, col = bad
        what = f"|values| <= max_leverage ({max_leverage:g})"
        got = f"{float(pos[row, col])}"
        raise ValueError(expected("position", what, got, at=_at(row, col, template, m), raw=True))


def check_delay(delay: Any) -> int:
    """The latency in bars: an integer >= 0."""
    return integer(delay, "delay", minimum=0)


def _cost_shape(arr: np.ndarray, name: str, n: int, m: int, per_row: bool, is_series: bool) -> np.ndarray:
    """A cost array as (1, 1), (1, m), and, when ``per_row``, (n, 1) or (n, m); anything else is a ValueError."""
    what = "a scalar, a per-column sequence of length m" + (", a per-row array of length n" if per_row else "")
    if arr.ndim == 0:
        return arr.reshape(1, 1)
    if arr.ndim == 1:
        if per_row and arr.shape[0] == n and (is_series or n != m or m == 1):
            return arr.reshape(n, 1)
        if arr.shape[0] == m and not is_series:
            if per_row and n == m and m > 1:
                raise ValueError(
                    expected(
                        name,
                        f"an unambiguous shape when n == m == {m}",
                        f"a length-{m} sequence",
                        raw=True,
                        hint=f"pass shape (1, {m}) for per-column or ({n}, 1) (or a Series on the price index) "
                        "for per-row costs",
                    )
                )
            return arr.reshape(1, m)
        raise ValueError(expected(name, f"{what} (n={n}, m={m})", f"length {arr.shape[0]}", raw=True))
    rows_ok = arr.shape[0] == 1 or (per_row and arr.shape[0] == n)
    if not (rows_ok and arr.shape[1] in (1, m)):
        raise ValueError(expected(name, f"{what} (n={n}, m={m})", f"shape {arr.shape}", raw=True))
    return arr


def as_cost(value: Any, name: str, n: int, m: int, per_row: bool, index: pd.Index | None) -> np.ndarray:
    """A cost in basis points (finite, >= 0) as a flexibly shaped 2-D array; see :func:`_cost_shape`.

    A Series or DataFrame of costs must carry exactly the price index when the price has one, and a time index
    of its own must be sorted.
    """
    if isinstance(value, pd.Series | pd.DataFrame):
        check_sorted_index(value.index, name)
        if index is not None and not value.index.equals(index):
            kind = "a per-row Series" if isinstance(value, pd.Series) else "a DataFrame of costs"
            raise ValueError(
                expected(name, f"{kind} on exactly the price index", "another index", raw=True, hint="reindex it")
            )
    arr, _, _ = numeric_array(value, name, ndim=(0, 1, 2), allow_nan=False, allow_bool=False)
    arr = _cost_shape(arr, name, n, m, per_row, isinstance(value, pd.Series))
    if (arr < 0).any():
        row, col = (int(v) for v in np.argwhere(arr < 0)[0])
        at = where(row if arr.shape[0] > 1 else None, index=index, column=col if arr.shape[1] > 1 else None)
        raise ValueError(expected(name, "costs >= 0 basis points", f"{float(arr[row, col])}", at=at, raw=True))
    return np.asfortranarray(arr)


@dataclass(frozen=True)
class Costs:
    """The three costs of a backtest or an oracle, each a flexibly shaped (rows, columns) array in bps."""

    fee: np.ndarray
    half_spread: np.ndarray
    slippage: np.ndarray

    @property
    def shared(self) -> bool:
        """Whether every column pays the same costs (no per-column or per-cell values)."""
        return self.fee.shape[1] == 1 and self.half_spread.shape[1] == 1 and self.slippage.shape[1] == 1


def as_costs(fee_bps: Any, half_spread_bps: Any, slippage_bps: Any, n: int, m: int, index: pd.Index | None) -> Costs:
    """Check the three costs: fee and slippage per column at most, the half spread per row or cell too."""
    return Costs(
        as_cost(fee_bps, "fee_bps", n, m, False, index),
        as_cost(half_spread_bps, "half_spread_bps", n, m, True, index),
        as_cost(slippage_bps, "slippage_bps", n, m, False, index),
    )


def _check_same_index(price_index: pd.Index, pos_index: pd.Index) -> None:
    if price_index.equals(pos_index):
        return
    diff = np.flatnonzero(price_index != pos_index)  # same length: the row counts were checked before
    k = int(diff[0]) if diff.size else 0
    raise ValueError(
        expected(
            "position's index",
            "the price's index",
            f"{pos_index[k]!r} where price has {price_index[k]!r}",
            at=f"row {k} (the first difference)",
            raw=True,
            hint="align them (e.g. position.reindex(price.index))",
        )
    )


def _output_columns(price: Template, pos: Template, mp: int, mq: int) -> pd.Index:
    """Columns of the (n, m) outputs: from position, else from price, else the Series name or positions."""
    m = max(mp, mq)
    if pos.columns is not None and mq == m:
        if price.columns is not None and mp == m and not price.columns.equals(pos.columns):
            raise ValueError(
                expected(
                    "position's columns",
                    f"the price's columns {list(price.columns)[:5]}",
                    f"{list(pos.columns)[:5]}",
                    raw=True,
                )
            )
        return pos.columns
    if price.columns is not None and mp == m:
        return price.columns
    if m == 1:
        label = pos.name if pos.name is not None else price.name
        return pd.Index([label if label is not None else 0])
    return pd.RangeIndex(m)


def align(price: Template, pos: Template, price_shape: tuple[int, int], pos_shape: tuple[int, int]) -> Template:
    """Check that price and position line up (rows, columns, labels) and return the outputs' template."""
    (n, mp), (nq, mq) = price_shape, pos_shape
    if nq != n:
        raise ValueError(expected("position", f"{n} rows to match price", f"{nq}", raw=True))
    if mp != 1 and mq != 1 and mp != mq:
        raise ValueError(expected("position", f"1 or {mp} columns to match price", f"{mq}", raw=True))
    if price.index is not None and pos.index is not None:
        _check_same_index(price.index, pos.index)
    index = price.index if price.index is not None else pos.index
    columns = _output_columns(price, pos, mp, mq)
    name = pos.name if pos.name is not None else price.name
    return Template(index, columns, price.one_d and pos.one_d, name)


@dataclass(frozen=True)
class Options:
    """The scalar options of a backtest, checked (see :func:`check_options`)."""

    delay: int
    mode: str
    periods_per_year: float  # NaN when not given
    close_at_end: bool
    max_leverage: float
    n_trials: int | None


def check_options(
    delay: Any, mode: Any, periods_per_year: Any, close_at_end: Any, max_leverage: Any, n_trials: Any
) -> Options:
    """Check ``backtest``'s scalar options: a wrong kind is a ``TypeError``, a wrong value a ``ValueError``."""
    return Options(
        delay=check_delay(delay),
        mode=choice(mode, "mode", MODES),
        periods_per_year=checked_periods_per_year(periods_per_year),
        close_at_end=boolean(close_at_end, "close_at_end"),
        max_leverage=number(max_leverage, "max_leverage", low=0.0, low_open=True),
        n_trials=integer(n_trials, "n_trials", minimum=1, allow_none=True),
    )
