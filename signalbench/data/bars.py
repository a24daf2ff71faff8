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
message also gives the line number a text editor shows (the header is line 1, so row r is line r + 1). A column of the
wrong kind (datetimes, timedeltas or booleans where numbers are expected: a datetime column would otherwise be read as
nanoseconds) raises :class:`BarsKindError`, a ``BarsFormatError`` that is also a ``TypeError``. A damaged or truncated
compressed file (gzip, bz2, xz, zip) or Parquet file is a ``BarsFormatError`` too, naming the file and, for a zip
archive, the member (``archive.zip:member.csv``).
"""

from __future__ import annotations

import datetime
import os
import warnings
import zipfile
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from signalbench._validation import expected, name_list
from signalbench.data._archives import DAMAGED, is_damage, zip_damage
from signalbench.data._errors import DataFormatError

__all__ = ["BarsFormatError", "BarsKindError", "load_bars"]

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


class BarsKindError(BarsFormatError, TypeError):
    """A column of the wrong kind (datetimes, booleans where numbers are expected): also a ``TypeError``."""


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
        member: str | None = None,
        kind: bool = False,
    ) -> BarsFormatError:
        """Build the error for 0-based data row ``row`` (None: the whole file), in zip ``member`` if given."""
        where = self.name if member is None else f"{self.name}:{member}"
        if row is not None:
            where += f", row {row + 1}"
            if self.is_csv:
                where += f" (line {row + 2})"
        if stamp is not None:
            where += f", timestamp {stamp}"
        if column is not None:
            where += f", column {column!r}"
        path = self.name if member is None else f"{self.name}:{member}"
        cls = BarsKindError if kind else BarsFormatError
        return cls(f"{where}: {problem}", path=path, row=None if row is None else row + 1, column=column)

    def check(self, bad: np.ndarray, problem, *, column: str, stamps: pd.DatetimeIndex | None = None) -> None:
        """Raise for the first row where ``bad`` is True; ``problem(i)`` says what is wrong with row ``i``."""
        if bad.any():
            i = int(np.argmax(bad))
            raise self.error(problem(i), row=i, column=column, stamp=None if stamps is None else stamps[i])


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def _read(path: Path, where: _Where) -> pd.DataFrame:
    if not where.is_csv:
        try:
            return pd.read_parquet(path)
        except (pa.ArrowException, *DAMAGED, ValueError, KeyError, TypeError) as exc:  # incl. damaged metadata
            if isinstance(exc, OSError) and not is_damage(exc):
                raise
            raise where.error(f"cannot be read as Parquet ({type(exc).__name__}: {exc})") from None
    try:
        return pd.read_csv(path, engine="c", skip_blank_lines=False, low_memory=False)
    except pd.errors.EmptyDataError:
        raise where.error("the file is empty (expected a header row and OHLCV rows)") from None
    except pd.errors.ParserError as exc:
        raise where.error(f"malformed CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise where.error(f"not a text CSV file ({exc})") from None
    except (*DAMAGED, ValueError) as exc:  # a damaged .gz/.zip/.bz2/.xz, or a zip that holds several files
        if isinstance(exc, OSError) and not is_damage(exc):
            raise
        raise _archive_error(path, where, exc) from None


def _archive_error(path: Path, where: _Where, exc: BaseException) -> BarsFormatError:
    """A compressed CSV that cannot be read; a damaged zip archive names the member the damage is in."""
    if isinstance(exc, ValueError):  # pandas: a zip archive with no file or several files in it
        problem = f"cannot be read ({exc})"
    else:
        problem = f"cannot be read: damaged or truncated compressed data ({type(exc).__name__}: {exc})"
    member = None
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = [info.filename for info in zf.infolist() if not info.is_dir()]
            member = names[0] if len(names) == 1 else None
        except DAMAGED as zip_exc:
            if not is_damage(zip_exc):
                raise
            problem, member = zip_damage(path, zip_exc)
    return where.error(problem, member=member)


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
        names = name_list(timestamp, "timestamp")
        if len(names) > 2:
            raise ValueError(expected("timestamp", "a column name or a (date, time) pair of names", timestamp))
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
    where.check(missing, lambda i: "missing timestamp", column=column)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = pd.DatetimeIndex(values)
    elif pd.api.types.is_bool_dtype(values.dtype):
        raise where.error("timestamps are booleans, expected dates and times", column=column, kind=True)
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
    where.check(
        (unit_of < 0) | ~np.isfinite(x),
        lambda i: f"numeric timestamp {values.iloc[i]} is not a Unix epoch time in s, ms, us or ns for 1973-2286",
        column=column,
    )
    where.check(
        unit_of != unit_of[0],
        lambda i: (
            f"numeric timestamp {values.iloc[i]} is in epoch {_EPOCH_UNITS[unit_of[i]][0]} but row 1 is in "
            f"epoch {_EPOCH_UNITS[unit_of[0]][0]}; all rows must use one unit"
        ),
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


def _kind_problem(dtype) -> str | None:
    """What is wrong with a column of this dtype where numbers are expected, or None when it may hold numbers."""
    if pd.api.types.is_bool_dtype(dtype):
        return f"booleans (dtype {dtype}), expected numbers"
    if pd.api.types.is_complex_dtype(dtype):
        return f"complex numbers (dtype {dtype}), expected real numbers"
    types = pd.api.types
    if types.is_numeric_dtype(dtype) or types.is_object_dtype(dtype) or types.is_string_dtype(dtype):
        return None
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return f"datetimes (dtype {dtype}), expected numbers (they would be read as nanoseconds)"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return f"timedeltas (dtype {dtype}), expected numbers (they would be read as nanoseconds)"
    return f"values of dtype {dtype}, expected numbers"


def _parse_numbers(series: pd.Series, name: str, where: _Where, stamps: pd.DatetimeIndex) -> np.ndarray:
    """Text (or object) cells -> float64; a cell that is no number is named with its row."""
    parsed = pd.to_numeric(series, errors="coerce")
    values = parsed.to_numpy(dtype=np.float64, na_value=np.nan) if parsed.dtype.kind in "iuf" else None
    junk = series.notna().to_numpy() & (np.isnan(values) if values is not None else True)
    if junk.any():
        i = int(np.argmax(junk))
        cell = series.iloc[i]
        if isinstance(cell, str):
            raise where.error(f"{cell!r} is not a number", row=i, column=name, stamp=stamps[i])
        raise where.error(
            f"{cell!r} ({type(cell).__name__}) is not a number", row=i, column=name, stamp=stamps[i], kind=True
        )
    return values


def _numeric(frame: pd.DataFrame, name: str, where: _Where, stamps: pd.DatetimeIndex) -> np.ndarray:
    series = frame[name].reset_index(drop=True)
    problem = _kind_problem(series.dtype)
    if problem is not None:
        raise where.error(problem, column=name, kind=True)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = _parse_numbers(series, name, where, stamps)
    where.check(np.isnan(values), lambda i: "missing value", column=name, stamps=stamps)
    where.check(~np.isfinite(values), lambda i: f"{values[i]} is not finite", column=name, stamps=stamps)
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
        that is missing, non-numeric, not finite or negative, or when a compressed or Parquet file is damaged. The
        message names the file (and zip member), the column, the first offending row and its timestamp.
    BarsKindError
        When a price or volume column holds datetimes, timedeltas or booleans (also a ``TypeError``).
    FileNotFoundError
        When ``path`` does not exist.
    TypeError
        When ``timestamp`` is neither a name nor a pair of names, or ``tz`` is not a time-zone name.
    ValueError
        When ``timestamp`` names more than two columns.
    """
    if tz is not None and not isinstance(tz, str | datetime.tzinfo):
        raise TypeError(expected("tz", "a time-zone name such as 'America/New_York', or None", tz))
    if not isinstance(path, str | os.PathLike):
        raise TypeError(expected("path", "a path to a CSV or Parquet file", path))
    frame, where = read_bars(path)
    return validated(frame, where, timestamp=timestamp, tz=tz)


def read_bars(path: PathLike) -> tuple[pd.DataFrame, _Where]:
    """The file's table as read (not yet checked) and where it came from (for :func:`validated`'s messages)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"bars file not found: {path}")
    where = _Where(path, is_csv=not _is_parquet(path))
    return _read(path, where), where


class RowsOf(_Where):
    """The rows ``rows`` (0-based positions in the file) of one symbol of a long file: errors name the file's row."""

    def __init__(self, where: _Where, rows: np.ndarray, symbol: str) -> None:
        super().__init__(Path(where.name), where.is_csv)
        self.rows = rows
        self.symbol = symbol

    def error(self, problem: str, *, row: int | None = None, **kw) -> BarsFormatError:
        """The file's error for the symbol's ``row``-th row."""
        file_row = None if row is None else int(self.rows[row])
        return super().error(f"{problem} (symbol {self.symbol!r})", row=file_row, **kw)


def validated(frame: pd.DataFrame, where: _Where, *, timestamp=None, tz: str | None = None) -> pd.DataFrame:
    """:func:`load_bars` of a frame already read from the file ``where`` names (the same checks and result)."""
    if len(frame) == 0:
        raise where.error("no data rows (expected OHLCV rows after the header)")
    raw, ts_cols = _find_timestamp(frame, timestamp, where)
    ts_label = " ".join(ts_cols) if ts_cols else str(frame.index.name or "index")
    stamps = _localize(_parse_timestamps(raw, where, ts_label), tz, where, ts_label)
    names = _normalise_columns(frame, where, ts_cols)
    _check_increasing(stamps, where, ts_label)
    out = _ohlcv(frame, names, where, stamps)
    used = set(ts_cols) | set(names.values())
    extras = {str(col): frame[col].to_numpy() for col in frame.columns if str(col) not in used}
    return pd.DataFrame({**out, **extras}, index=stamps.rename("timestamp"))


def _check_increasing(stamps: pd.DatetimeIndex, where: _Where, column: str) -> None:
    steps = np.diff(stamps.asi8)
    where.check(
        np.r_[False, steps <= 0],
        lambda i: (
            f"{'duplicate timestamp' if steps[i - 1] == 0 else 'timestamp goes backwards'}: {stamps[i]} "
            f"after {stamps[i - 1]} in row {i} (timestamps must be strictly increasing)"
        ),
        column=column,
        stamps=stamps,
    )


def _ohlcv(frame: pd.DataFrame, names: dict[str, str], where: _Where, stamps: pd.DatetimeIndex) -> dict:
    """The OHLCV columns as float64, each checked, and the high/low rules."""
    out: dict[str, np.ndarray] = {}
    for name in (*PRICE_COLUMNS, "volume"):
        if name in names:
            values = _numeric(frame, names[name], where, stamps)
            what = "a price > 0" if name != "volume" else "a volume >= 0"
            bad = values <= 0 if name != "volume" else values < 0
            where.check(
                bad, lambda i, v=values, w=what: f"{v[i]} is invalid, expected {w}", column=names[name], stamps=stamps
            )
            out[name] = values
    o, h, lo, c = out["open"], out["high"], out["low"], out["close"]
    for column, bad, rule in (
        (names["high"], h < np.maximum(o, c), "high >= max(open, close)"),
        (names["low"], lo > np.minimum(o, c), "low <= min(open, close)"),
    ):
        where.check(
            bad,
            lambda i, r=rule: f"violates {r}: open={o[i]}, high={h[i]}, low={lo[i]}, close={c[i]}",
            column=column,
            stamps=stamps,
        )
    return out
