"""One set of argument checks and one error style, used by every stage.

The rule for exception types
----------------------------
- ``TypeError``: the argument is of the wrong *kind*: a string or a float where an integer is expected
  (``delay=1.5``, ``window=1.5``), a string where a bool is expected (``close_at_end="no"``), datetimes,
  timedeltas, strings or objects where numbers are expected, an int where a name or a list of names is expected,
  ``None`` where a value is required.
- ``ValueError``: the kind is right but the value is not: out of range, not finite, the wrong shape or length,
  unsorted timestamps, too few rows, an unknown name (with a "did you mean"). Errors about the contents of a file
  are :class:`signalbench.data.DataFormatError` (a ``ValueError``) naming the file, the zip member, the column and
  the row; a saved model that cannot be read is :class:`signalbench.signals.ModelFileError` (a ``ValueError``).

The message form
----------------
Every message reads ``"<argument>: expected <what>, got <what was found>[ at <where>][; <how to fix>]"``, for
example ``"delay: expected an integer >= 0, got 1.5 (float)"`` or
``"price: expected values > 0, got -1.0 at row 7 (2024-03-04 09:38:00)"``. :func:`expected` builds it; the
checks below use it, so the same mistake reads the same in every stage.

A result with nothing in it (an all-NaN label column, an exposure that is zero everywhere because ``delay``
covers every row) is not an error when the documented convention allows it, but it is never silent: the
function warns with :class:`EmptyResultWarning`.

This module imports only NumPy and pandas, so every stage may import it (``docs/architecture.md``).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EmptyResultWarning",
    "boolean",
    "check_sorted_index",
    "choice",
    "describe",
    "did_you_mean",
    "expected",
    "integer",
    "name_list",
    "number",
    "numeric_array",
    "time_index",
    "warn_empty",
    "where",
]

# The largest integer the Numba kernels and index arithmetic can take without overflow.
INT_MAX = 2**62


class EmptyResultWarning(UserWarning):
    """A result holds nothing useful (all NaN, all zero) under a documented convention; the warning says why."""


# ---------------------------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------------------------


def describe(value: Any, limit: int = 60) -> str:
    """A short account of ``value`` for an error message: its repr (cut to ``limit``) and, when useful, its type.

    Arrays and pandas objects are described by dtype and shape, never printed in full.
    """
    if isinstance(value, pd.DataFrame):
        return f"a DataFrame of shape {value.shape} with dtypes {_dtype_summary(value.dtypes)}"
    if isinstance(value, pd.Series):
        return f"a Series of dtype {value.dtype} and length {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    if isinstance(value, bool | str | type(None) | list | tuple | dict):
        return text
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{text} ({type(value).__name__})"
    return f"{text} ({type(value).__name__})"


def _dtype_summary(dtypes: pd.Series) -> str:
    items = [f"{k}: {v}" for k, v in list(dtypes.items())[:5]]
    more = f", ... ({len(dtypes)} columns)" if len(dtypes) > 5 else ""
    return "{" + ", ".join(items) + more + "}"


def where(row: int | None = None, *, index: pd.Index | None = None, column: Any = None) -> str:
    """`` at row 7 (2024-03-04 09:38:00), column 'close'``: a location for :func:`expected`'s ``at``."""
    parts = []
    if row is not None:
        label = ""
        if index is not None and not isinstance(index, pd.RangeIndex) and 0 <= row < len(index):
            label = f" ({index[row]})"
        parts.append(f"row {row}{label}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)


def expected(name: str, what: str, got: Any, *, at: str = "", hint: str = "", raw: bool = False) -> str:
    """The library's one message form: ``"name: expected what, got got[ at where][; hint]"``.

    ``got`` is passed through :func:`describe` unless ``raw`` is true (then it is used as written).
    """
    found = got if raw else describe(got)
    text = f"{name}: expected {what}, got {found}"
    if at:
        text += f" at {at}"
    if hint:
        text += f"; {hint}"
    return text


def did_you_mean(word: Any, options: Iterable[Any]) -> str:
    """``" (did you mean 'lstm'?)"`` for the closest option, or ``""`` when nothing is close."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def warn_empty(message: str, stacklevel: int = 3) -> None:
    """Issue an :class:`EmptyResultWarning` (the caller's caller is blamed by default)."""
    warnings.warn(message, EmptyResultWarning, stacklevel=stacklevel)


# ---------------------------------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------------------------------


def _is_integer(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        return f" in {lo}{low:g}, {high:g}{hi}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def integer(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
    what: str = "",
) -> Any:
    """Check an integer argument and return it as a Python ``int`` (or None when ``allow_none``).

    Raises ``TypeError`` for anything that is not an integer (``bool`` and ``1.0`` included) and ``ValueError``
    for a value outside ``[minimum, maximum]``. Without ``maximum`` the bound is ``2**62``, so a huge value is a
    clear ``ValueError`` here instead of an ``OverflowError`` deep inside NumPy or Numba. ``what`` replaces the
    default description ("an integer >= 1") in the message.
    """
    hi = INT_MAX if maximum is None else maximum
    desc = what or ("an integer" + _range_text(minimum, maximum, False, False) + (" or None" if allow_none else ""))
    if value is None and allow_none:
        return None
    if not _is_integer(value):
        raise TypeError(expected(name, desc, value))
    if (minimum is not None and value < minimum) or value > hi:
        if value > hi and maximum is None:
            desc = (what or "an integer" + _range_text(minimum, None, False, False)) + " and at most 2**62"
        raise ValueError(expected(name, desc, value))
    return int(value)


def number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
    what: str = "",
) -> Any:
    """Check a finite real number inside an interval and return it as a ``float`` (or None when ``allow_none``).

    Raises ``TypeError`` for strings, bools, None (unless allowed) and other non-real types; ``ValueError`` for
    NaN, infinity or a value outside the interval.
    """
    desc = what or (
        "a finite number" + _range_text(low, high, low_open, high_open) + (" or None" if allow_none else "")
    )
    if value is None and allow_none:
        return None
    if not _is_real(value):
        raise TypeError(expected(name, desc, value))
    v = float(value)
    bad = not math.isfinite(v)
    if low is not None:
        bad = bad or v < low or (low_open and v == low)
    if high is not None:
        bad = bad or v > high or (high_open and v == high)
    if bad:
        raise ValueError(expected(name, desc, value))
    return v


def boolean(value: Any, name: str) -> bool:
    """Check a bool argument (``True``/``False`` or a NumPy bool); a string such as ``"no"`` is a ``TypeError``."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(expected(name, "True or False", value))
    return bool(value)


def choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """Check that ``value`` is one of ``choices``; a near miss gets a "did you mean" in the ``ValueError``.

    A value of another type than every choice (an int where names are expected) is a ``TypeError``.
    """
    options = tuple(choices)
    if isinstance(value, np.ndarray | pd.Series | pd.DataFrame | list | dict | set):
        raise TypeError(expected(name, "one of " + ", ".join(repr(o) for o in options), value))
    try:
        if value in options:
            return value
    except (TypeError, ValueError):  # unhashable or incomparable
        pass
    what = "one of " + ", ".join(repr(o) for o in options)
    if options and not any(isinstance(value, type(o)) for o in options):
        raise TypeError(expected(name, what, value))
    raise ValueError(expected(name, what, value) + did_you_mean(value, options))


def name_list(value: Any, name: str, *, allow_empty: bool = False) -> list[str]:
    """A name or a list of names -> ``list[str]``; anything else (an int, a list holding an int) is a ``TypeError``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, bytes | dict):
        items = list(value)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise TypeError(expected(f"{name}[{i}]", "a name (str)", item))
        if not items and not allow_empty:
            raise ValueError(expected(name, "at least one name", "an empty list", raw=True))
        return items
    raise TypeError(expected(name, "a name (str) or a list of names", value))


# ---------------------------------------------------------------------------------------------------------------------
# Arrays and time indexes
# ---------------------------------------------------------------------------------------------------------------------


def _dtype_kind_error(name: str, dtype: Any, column: Any = None) -> TypeError:
    kind = getattr(dtype, "kind", "O")
    what = {
        "M": "datetimes",
        "m": "timedeltas",
        "U": "strings",
        "S": "bytes",
        "O": "objects (strings or mixed types)",
        "b": "booleans",
        "c": "complex numbers",
    }.get(kind, str(dtype))
    at = f"column {column!r}" if column is not None else ""
    return TypeError(expected(name, "numbers", f"{what} (dtype {dtype})", at=at, raw=True))


def _first_unparseable(values: np.ndarray) -> tuple[int, Any]:
    """Position and value of the first element that is not a real number (None and NaN count as missing)."""
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if not _is_real(v):
            return i, v
    return -1, None


def _object_to_float(values: np.ndarray, name: str, index: pd.Index | None, column: Any) -> np.ndarray:
    """An object column of Python numbers -> float64; a string such as ``'n/a'`` is a TypeError naming its row."""
    flat = values.ravel(order="K") if values.ndim == 1 else values
    if values.ndim == 1:
        i, bad = _first_unparseable(flat)
        if i >= 0:
            raise TypeError(expected(name, "numbers", bad, at=where(i, index=index, column=column)))
        return np.array([np.nan if v is None else v for v in flat], dtype=np.float64)
    out = np.empty(values.shape, dtype=np.float64)
    for j in range(values.shape[1]):
        out[:, j] = _object_to_float(values[:, j], name, index, j if column is None else column)
    return out


def numeric_array(
    value: Any,
    name: str,
    *,
    ndim: tuple[int, ...] = (1, 2),
    allow_nan: bool = True,
    allow_inf: bool = False,
    allow_bool: bool = True,
    min_rows: int = 0,
) -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    """Convert numeric input to a float64 NumPy array, with the pandas index and columns it came with.

    Datetime, timedelta, string, object and complex data are a ``TypeError`` naming the column (they would
    otherwise be read as nanoseconds or fail inside NumPy); booleans are taken as 0/1 unless ``allow_bool`` is
    false. NaN and infinity are a ``ValueError`` naming the first row (and column) unless allowed.

    Returns
    -------
    tuple
        ``(values, index, columns)``: ``values`` float64 (a view when the input already was one); ``index`` and
        ``columns`` are None for NumPy input.
    """
    index = columns = None
    if isinstance(value, pd.DataFrame):
        index, columns = value.index, value.columns
        kinds = {getattr(dt, "kind", "O") for dt in value.dtypes}
        if kinds <= {"f", "i", "u"} and all(isinstance(dt, np.dtype) for dt in value.dtypes):
            arr = value.to_numpy(dtype=np.float64)  # plain numeric frame: one step
        else:
            arr = np.empty(value.shape, dtype=np.float64)
            for j, (col, dt) in enumerate(value.dtypes.items()):
                arr[:, j] = _column_values(value.iloc[:, j], dt, name, index, col, allow_bool)
    elif isinstance(value, pd.Series):
        index = value.index
        arr = _column_values(value, value.dtype, name, index, value.name, allow_bool)
    else:
        if value is None or isinstance(value, str | bytes | dict):
            raise TypeError(expected(name, "an array of numbers", value))
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError) as exc:  # ragged nested lists
            raise ValueError(
                expected(name, "a rectangular array of numbers", f"{type(value).__name__} ({exc})", raw=True)
            ) from None
        if raw.dtype.kind == "O" and raw.ndim in (1, 2):
            arr = _object_to_float(raw, name, None, None)
        else:
            if not _numeric_dtype(raw.dtype, allow_bool):
                raise _dtype_kind_error(name, raw.dtype)
            arr = raw.astype(np.float64, copy=False)
    if arr.ndim not in ndim:
        shapes = " or ".join({1: "(n,)", 2: "(n, m)", 0: "a scalar", 3: "(n, m, k)"}.get(d, f"{d}-D") for d in ndim)
        raise ValueError(expected(name, f"shape {shapes}", f"shape {arr.shape}", raw=True))
    if arr.ndim and arr.shape[0] < min_rows:
        raise ValueError(
            expected(name, f"at least {min_rows} row{'s' if min_rows != 1 else ''}", f"{arr.shape[0]}", raw=True)
        )
    if not (allow_nan and allow_inf):
        bad = ~np.isfinite(arr) if not allow_nan and not allow_inf else (np.isinf(arr) if allow_nan else np.isnan(arr))
        if bad.any():
            pos = np.argwhere(bad)[0]
            row = int(pos[0]) if arr.ndim else None
            col = None
            if arr.ndim == 2:
                col = columns[int(pos[1])] if columns is not None else int(pos[1])
            what = (
                "finite values"
                if not allow_nan and not allow_inf
                else ("no infinite values" if allow_nan else "no NaN")
            )
            raise ValueError(
                expected(name, what, float(arr[tuple(pos)]), at=where(row, index=index, column=col), raw=True)
            )
    return arr, index, columns


def _column_values(
    column: pd.Series, dtype: Any, name: str, index: pd.Index | None, label: Any, allow_bool: bool
) -> np.ndarray:
    if isinstance(dtype, pd.CategoricalDtype):
        raise TypeError(expected(name, "numbers", f"categories (dtype {dtype})", at=f"column {label!r}", raw=True))
    if getattr(dtype, "kind", None) == "O" or isinstance(dtype, pd.StringDtype):
        return _object_to_float(column.to_numpy(dtype=object), name, index, label)
    if not _numeric_dtype(dtype, allow_bool):
        raise _dtype_kind_error(name, dtype, label)
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _numeric_dtype(dtype: Any, allow_bool: bool) -> bool:
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    try:
        kind = np.dtype(dtype).kind
    except TypeError:  # pandas extension dtypes (nullable Int64, Float64, boolean)
        if pd.api.types.is_bool_dtype(dtype):
            return allow_bool
        return pd.api.types.is_numeric_dtype(dtype)
    if kind == "b":
        return allow_bool
    return kind in "iuf"


def time_index(index: Any, name: str) -> pd.DatetimeIndex | None:
    """The index as a ``DatetimeIndex`` when it holds timestamps, else None; never a silent wrong reading.

    An object index of timestamps with one UTC offset is converted; with mixed offsets (or mixed naive and aware
    timestamps) it is a ``ValueError`` asking for one time zone, instead of being treated as "no time index".
    """
    if isinstance(index, pd.DatetimeIndex):
        return index
    if not isinstance(index, pd.Index) or index.dtype != object or len(index) == 0:
        return None
    sample = index[: min(len(index), 1000)]
    kinds = {type(v) for v in sample}
    if not all(issubclass(k, _dt.datetime) for k in kinds):
        return None
    offsets = {v.utcoffset() for v in index}
    if len(offsets) > 1:
        shown = sorted(_offset_text(o) for o in offsets)[:4]
        raise ValueError(
            expected(
                f"{name}'s index",
                "timestamps in one time zone",
                f"mixed UTC offsets {shown}",
                raw=True,
                hint="convert with pd.to_datetime(index, utc=True).tz_convert(zone)",
            )
        )
    return pd.DatetimeIndex(index)


def _offset_text(offset: _dt.timedelta | None) -> str:
    """``+05:30``, ``-04:00``, or ``naive`` for a timestamp without a zone."""
    if offset is None:
        return "naive"
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def check_sorted_index(index: pd.Index | None, name: str) -> None:
    """``ValueError`` naming the first row out of order when a time index is not sorted (non-decreasing).

    Indexes that hold no timestamps are not checked (rows are taken in the order given).
    """
    times = time_index(index, name) if index is not None else None
    if times is None or times.is_monotonic_increasing:
        return
    ns = times.as_unit("ns").asi8
    row = int(np.flatnonzero(np.diff(ns) < 0)[0]) + 1
    raise ValueError(
        expected(
            f"{name}'s index",
            "timestamps sorted in time (non-decreasing)",
            f"{times[row]} after {times[row - 1]}",
            at=f"row {row}",
            raw=True,
            hint="sort it first (e.g. .sort_index())",
        )
    )
