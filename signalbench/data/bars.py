"""Load OHLCV bars (open, high, low, close and optional volume per period) from CSV or Parquet, validated.

Conventions
-----------
*Format.* Parquet when the name ends in ``.parquet``/``.pq`` or the file starts with Parquet's magic bytes; CSV
otherwise (one header row, comma-separated; compressed ``.csv.gz``/``.zip``/... are read by pandas as usual).

*Column names* are matched after stripping spaces and lower-casing, and normalised to ``open, high, low, close,
volume``; the one-letter forms ``o, h, l, c, v`` and ``vol`` are accepted too. Two columns meaning the same field
(``Close`` and ``c``) are an error, never a silent pick. ``adj close`` and every other column are kept unchanged,
after the OHLCV columns.

*Volume is optional*: quote data (FX, indices) often has none, and a made-up zero volume would be a silent wrong
number. When the file has no volume column the result has none; code that needs volume asks for it by name and gets
a ``KeyError`` there. When present, volume is validated like the prices (no missing, infinite or negative value).

*The timestamp* comes from, in order: the column named by ``timestamp=`` (or the index of that name in a Parquet
file; a ``(date, time)`` pair of columns is joined with a space); else the first column found among ``timestamp,
datetime, date_time, time, date, ts`` (matched case-insensitively), except that separate ``date`` and ``time``
columns with neither ``timestamp`` nor ``datetime`` present are joined; else a ``DatetimeIndex`` stored in a
Parquet file, or the unnamed first column that ``DataFrame.to_csv`` writes for an index. Text is parsed by
:func:`pandas.to_datetime` (its format inferred from the first value and then required of every row); numbers are
Unix epoch times whose unit (s, ms, us or ns) is inferred from their magnitude, which must be the same for all rows.
Timestamps with UTC offsets are tz-aware (mixed offsets, as across a daylight-saving change, are converted to UTC).
``tz=`` localizes naive timestamps to that zone, or converts aware ones to it. The result's index is a
``DatetimeIndex`` named ``timestamp`` with nanosecond resolution.

*Validation*, with no tolerance: every timestamp present and parseable; timestamps strictly increasing (sorted and
unique); open, high, low, close numeric, finite and > 0; high >= max(open, close) and low <= min(open, close); volume,
if present, numeric, finite and >= 0. Every failure raises :class:`BarsFormatError` (a ``ValueError``) naming the file,
the column, the first offending row and its timestamp. Rows are counted from 1 at the first data row; for CSV the
message also gives the line number a text editor shows (the header is line 1, so row r is line r + 1).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd

from signalbench.data._errors import DataFormatError

__all__ = ["BarsFormatError", "load_bars"]

PathLike: TypeAlias = str | os.PathLike[str]

#: Accepted spellings (after stripping and lower-casing) of each normalised column.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v"),
}
PRICE_COLUMNS = ("open", "high", "low", "close")
#: Column names tried, in this order, when ``timestamp=`` is not given.
TIMESTAMP_CANDIDATES = ("timestamp", "datetime", "date_time", "time", "date", "ts")
_PARQUET_SUFFIXES = (".parquet", ".pq")
# Unix epoch units by magnitude: values in [lo, hi) are read in that unit (1973-2286 for each).
_EPOCH_UNITS = (("s", 1e8, 1e10), ("ms", 1e11, 1e13), ("us", 1e14, 1e16), ("ns", 1e17, 1e19))


class BarsFormatError(DataFormatError):
    """An OHLCV file that cannot be loaded; the message names the file, column, first offending row and timestamp."""


class _Where:
    """Formats the location of a row in the file for error messages."""

    def __init__(self, path: Path, is_csv: bool) -> None:
        self.name = str(path)
        self.is_csv = is_csv

    def error(
        self,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        stamp: object = None,
    ) -> BarsFormatError:
        """Build the error for 0-based data row ``row`` (None: the whole file)."""
        where = self.name
        if row is not None:
            where += f", row {row + 1}"
            if self.is_csv:
                where += f" (line {row + 2})"
        if stamp is not None:
            where += f", timestamp {stamp}"
        if column is not None:
            where += f", column {column!r}"
        return BarsFormatError(
            f"{where}: {problem}", path=self.name, row=None if row is None else row + 1, column=column
        )


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def _read(path: Path, where: _Where) -> pd.DataFrame:
    if not where.is_csv:
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise where.error(f"cannot be read as Parquet: {exc}") from None
    try:
        return pd.read_csv(path, engine="c", skip_blank_lines=False, low_memory=False)
    except pd.errors.EmptyDataError:
        raise where.error("the file is empty (expected a header row and OHLCV rows)") from None
    except pd.errors.ParserError as exc:
        raise where.error(f"malformed CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise where.error(f"not a text CSV file ({exc})") from None


def _normalise_columns(frame: pd.DataFrame, where: _Where, ts_original: list[str]) -> dict[str, str]:
    """Map each normalised OHLCV name to the file's column name; reject duplicates and missing prices."""
    lookup = {alias: canon for canon, aliases in COLUMN_ALIASES.items() for alias in aliases}
    found: dict[str, str] = {}
    for col in frame.columns:
        if col in ts_original:
            continue
        canon = lookup.get(str(col).strip().lower())
        if canon is None:
            continue
        if canon in found:
            raise where.error(f"columns {found[canon]!r} and {col!r} both mean {canon!r}; keep one", column=str(col))
        found[canon] = str(col)
    missing = [c for c in PRICE_COLUMNS if c not in found]
    if missing:
        accepted = ", ".join(k + "=" + "/".join(v) for k, v in COLUMN_ALIASES.items())
        raise where.error(
            f"missing column(s) {', '.join(missing)} (found columns: {', '.join(map(str, frame.columns))}; "
            f"accepted names: {accepted})"
        )
    return found


def _match(frame: pd.DataFrame, name: str) -> str | None:
    key = name.strip().lower()
    hits = [c for c in frame.columns if str(c).strip().lower() == key]
    return str(hits[0]) if hits else None


def _find_timestamp(
    frame: pd.DataFrame, timestamp: str | tuple[str, str] | None, where: _Where
) -> tuple[pd.Series | pd.Index, list[str]]:
    """Return the raw timestamps and the columns they came from (removed from the output)."""
    index_name = None if frame.index.name is None else str(frame.index.name).strip().lower()
    if timestamp is not None:
        names = (timestamp,) if isinstance(timestamp, str) else tuple(timestamp)
        if len(names) not in (1, 2) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"load_bars: timestamp must be a column name or a (date, time) pair, got {timestamp!r}")
        if len(names) == 1 and _match(frame, names[0]) is None and index_name == names[0].strip().lower():
            return frame.index, []
        cols = []
        for n in names:
            col = _match(frame, n)
            if col is None:
                raise where.error(f"timestamp column {n!r} not found (columns: {', '.join(map(str, frame.columns))})")
            cols.append(col)
        return _join(frame, cols), cols
    lowered = {str(c).strip().lower(): str(c) for c in frame.columns}
    if not any(k in lowered for k in ("timestamp", "datetime", "date_time")) and {"date", "time"} <= lowered.keys():
        cols = [lowered["date"], lowered["time"]]
        return _join(frame, cols), cols
    for cand in TIMESTAMP_CANDIDATES:
        if cand in lowered:
            return frame[lowered[cand]], [lowered[cand]]
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame.index, []
    if index_name in TIMESTAMP_CANDIDATES:
        return frame.index, []
    first = str(frame.columns[0]) if len(frame.columns) else ""
    if where.is_csv and (first.strip() == "" or first.startswith("Unnamed: 0")):
        return frame[frame.columns[0]], [first]
    raise where.error(
        f"no timestamp column found (looked for {', '.join(TIMESTAMP_CANDIDATES)}, case-insensitively; "
        f"columns: {', '.join(map(str, frame.columns))}); name it with timestamp='column'"
    )


def _join(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    if len(cols) == 1:
        return frame[cols[0]]
    date, time = (frame[c] for c in cols)
    joined = date.astype("string").str.strip() + " " + time.astype("string").str.strip()
    joined.name = " ".join(cols)
    return joined


def _parse_timestamps(raw: pd.Series | pd.Index, where: _Where, column: str) -> pd.DatetimeIndex:
    values = pd.Series(raw).reset_index(drop=True)
    missing = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        missing = missing | values.astype("string").str.strip().fillna("").eq("").to_numpy()
    if missing.any():
        i = int(np.argmax(missing))
        raise where.error("missing timestamp", row=i, column=column)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = pd.DatetimeIndex(values)
    elif pd.api.types.is_bool_dtype(values.dtype):
        raise where.error("timestamps are booleans, expected dates and times", row=0, column=column)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        parsed = _parse_epoch(values, where, column)
    else:
        parsed = _parse_text(values.astype("string").str.strip(), where, column)
    try:
        return parsed.as_unit("ns")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime) as exc:
        raise where.error(f"timestamps outside the nanosecond range 1677-2262: {exc}", column=column) from None


def _parse_epoch(values: pd.Series, where: _Where, column: str) -> pd.DatetimeIndex:
    x = values.to_numpy(dtype=np.float64)
    magnitude = np.abs(x)
    unit_of = np.full(len(x), -1)
    for k, (_unit, lo, hi) in enumerate(_EPOCH_UNITS):
        unit_of[(magnitude >= lo) & (magnitude < hi)] = k
    unknown = (unit_of < 0) | ~np.isfinite(x)
    if unknown.any():
        i = int(np.argmax(unknown))
        raise where.error(
            f"numeric timestamp {values.iloc[i]} is not a Unix epoch time in s, ms, us or ns for 1973-2286",
            row=i,
            column=column,
        )
    differs = unit_of != unit_of[0]
    if differs.any():
        i = int(np.argmax(differs))
        raise where.error(
            f"numeric timestamp {values.iloc[i]} is in epoch {_EPOCH_UNITS[unit_of[i]][0]} but row 1 is in "
            f"epoch {_EPOCH_UNITS[unit_of[0]][0]}; all rows must use one unit",
            row=i,
            column=column,
        )
    unit = _EPOCH_UNITS[unit_of[0]][0]
    if pd.api.types.is_integer_dtype(values.dtype):
        return pd.DatetimeIndex(pd.to_datetime(values.to_numpy(dtype=np.int64), unit=unit))
    return pd.DatetimeIndex(pd.to_datetime(x, unit=unit))


def _parse_text(text: pd.Series, where: _Where, column: str) -> pd.DatetimeIndex:
    def attempt(**kwargs: object) -> pd.DatetimeIndex:
        with warnings.catch_warnings():
            # pandas warns when it falls back to per-element parsing; each row is still checked below.
            warnings.simplefilter("ignore", UserWarning)
            return pd.DatetimeIndex(pd.to_datetime(text, **kwargs))

    try:
        return attempt()
    except (ValueError, TypeError) as first_error:
        if "utc=True" in str(first_error):  # mixed UTC offsets: well defined as instants, so convert to UTC
            try:
                return attempt(utc=True)
            except (ValueError, TypeError):
                pass
        coerced = attempt(errors="coerce", utc=True)
        bad = np.asarray(coerced.isna())
        if bad.any():
            i = int(np.argmax(bad))
            raise where.error(
                f"cannot parse timestamp {text.iloc[i]!r} (format taken from row 1: {text.iloc[0]!r})",
                row=i,
                column=column,
            ) from None
        raise where.error(f"cannot parse the timestamps: {first_error}", column=column) from None


def _localize(index: pd.DatetimeIndex, tz: str | None, where: _Where, column: str) -> pd.DatetimeIndex:
    if tz is None:
        return index
    try:
        return index.tz_localize(tz) if index.tz is None else index.tz_convert(tz)
    except Exception as exc:  # unknown zone, or local times that do not exist / are ambiguous at a DST change
        raise where.error(f"cannot localize the timestamps to {tz!r}: {exc}", column=column) from None


def _numeric(frame: pd.DataFrame, name: str, where: _Where, stamps: pd.DatetimeIndex) -> np.ndarray:
    series = frame[name].reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        raise where.error("booleans, expected numbers", row=0, column=name, stamp=stamps[0])
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        junk = np.isnan(values) & series.notna().to_numpy()
        if junk.any():
            i = int(np.argmax(junk))
            raise where.error(f"{series.iloc[i]!r} is not a number", row=i, column=name, stamp=stamps[i])
    missing = np.isnan(values)
    if missing.any():
        i = int(np.argmax(missing))
        raise where.error("missing value", row=i, column=name, stamp=stamps[i])
    infinite = ~np.isfinite(values)
    if infinite.any():
        i = int(np.argmax(infinite))
        raise where.error(f"{values[i]} is not finite", row=i, column=name, stamp=stamps[i])
    return values


def load_bars(
    path: PathLike,
    *,
    timestamp: str | tuple[str, str] | None = None,
    tz: str | None = None,
) -> pd.DataFrame:
    """Load OHLCV bars from a CSV or Parquet file and validate them.

    See the module docstring for how the format, the columns and the timestamps are recognised, and for the
    checks made.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file (with a header row) or a Parquet file.
    timestamp : str or (str, str), optional
        The column holding the bar timestamps (case-insensitive; for Parquet it may name the stored index), or
        a ``(date, time)`` pair of columns to join. By default it is detected (see the module docstring).
    tz : str, optional
        A time zone such as ``"America/New_York"``: naive timestamps are localized to it, aware ones converted
        to it. By default timestamps stay as the file has them.

    Returns
    -------
    pandas.DataFrame
        Indexed by a strictly increasing ``DatetimeIndex`` named ``timestamp``, with float64 columns ``open,
        high, low, close`` and ``volume`` when the file has one, followed by the file's other columns unchanged.

    Raises
    ------
    BarsFormatError
        When the file is empty, unreadable, lacks a timestamp or a price column, has two columns for one field,
        or fails a check: a missing or unparseable timestamp, timestamps not strictly increasing, a price that is
        missing, non-numeric, not finite or <= 0, high < max(open, close), low > min(open, close), or a volume
        that is missing, non-numeric, not finite or negative. The message names the file, the column, the first
        offending row and its timestamp.
    FileNotFoundError
        When ``path`` does not exist.
    TypeError
        When ``timestamp`` is neither a string nor a pair of strings.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"bars file not found: {path}")
    where = _Where(path, is_csv=not _is_parquet(path))
    frame = _read(path, where)
    if len(frame) == 0:
        raise where.error("no data rows (expected OHLCV rows after the header)")
    raw, ts_cols = _find_timestamp(frame, timestamp, where)
    ts_label = " ".join(ts_cols) if ts_cols else str(frame.index.name or "index")
    stamps = _localize(_parse_timestamps(raw, where, ts_label), tz, where, ts_label)

    names = _normalise_columns(frame, where, ts_cols)
    steps = np.diff(stamps.asi8)
    unordered = steps <= 0
    if unordered.any():
        i = int(np.argmax(unordered)) + 1
        problem = "duplicate timestamp" if steps[i - 1] == 0 else "timestamp goes backwards"
        raise where.error(
            f"{problem}: {stamps[i]} after {stamps[i - 1]} in row {i} (timestamps must be strictly increasing)",
            row=i,
            column=ts_label,
            stamp=stamps[i],
        )

    out: dict[str, np.ndarray] = {}
    for name in (*PRICE_COLUMNS, "volume"):
        if name not in names:
            continue
        values = _numeric(frame, names[name], where, stamps)
        bad = values <= 0 if name != "volume" else values < 0
        if bad.any():
            i = int(np.argmax(bad))
            expected = "a price > 0" if name != "volume" else "a volume >= 0"
            raise where.error(
                f"{values[i]} is invalid, expected {expected}", row=i, column=names[name], stamp=stamps[i]
            )
        out[name] = values
    o, h, lo, c = out["open"], out["high"], out["low"], out["close"]
    for column, bad, rule in (
        (names["high"], h < np.maximum(o, c), "high >= max(open, close)"),
        (names["low"], lo > np.minimum(o, c), "low <= min(open, close)"),
    ):
        if bad.any():
            i = int(np.argmax(bad))
            raise where.error(
                f"violates {rule}: open={o[i]}, high={h[i]}, low={lo[i]}, close={c[i]}",
                row=i,
                column=column,
                stamp=stamps[i],
            )

    used = set(ts_cols) | set(names.values())
    extras = {str(col): frame[col].to_numpy() for col in frame.columns if str(col) not in used}
    return pd.DataFrame({**out, **extras}, index=stamps.rename("timestamp"))
