"""Load LOBSTER limit-order-book files (NASDAQ TotalView-ITCH reconstructions) into one DataFrame.

The format
----------
LOBSTER (https://lobsterdata.com) writes two headerless CSV files per ticker and trading day, usually in a
zip::

    TICKER_YYYY-MM-DD_StartTime_EndTime_message_LEVEL.csv
    TICKER_YYYY-MM-DD_StartTime_EndTime_orderbook_LEVEL.csv

*Message file*, one row per event, 6 columns: time (seconds after midnight, exchange local time, with up to
nine decimals: nanoseconds), type (1 new limit order, 2 partial cancellation, 3 full deletion, 4 execution of
a visible order, 5 execution of a hidden order, 6 cross trade, 7 trading halt), order id, size (shares), price
(dollars x 10000) and direction (-1 sell limit order, 1 buy limit order; the execution of a sell limit order
is a buyer-initiated trade).

*Order-book file*, one row per event, 4 columns per level: ask price, ask size, bid price, bid size (prices in
dollars x 10000). Row k is the book *after* message k. Levels are occupied price levels, so ask prices rise
and bid prices fall strictly with the level. A level that does not exist is written as ask price 9999999999 or
bid price -9999999999 with size 0.

*Trading halts* are type-7 messages whose price field is a code, not a price: -1 halt, 0 quoting resumes, 1
trading resumes (their other fields are 0, direction -1); their order-book rows repeat the preceding book.

What :func:`load_lobster` returns
---------------------------------
One DataFrame, indexed by a ``DatetimeIndex`` named ``timestamp`` (naive, exchange local time: the trading
date from the file name plus the message time, parsed exactly to the nanosecond from its decimal text, never
through a float). Events with the same timestamp are common (one order executing against several), so the
index is sorted but not unique. Columns, in this order:

``type`` (int8), ``order_id`` (int64), ``size`` (int64), ``price`` (float64, dollars; NaN on type-7 rows,
whose field is a code), ``direction`` (int8), ``halt`` (bool), ``day`` (datetime64[ns], the trading date at
midnight: always present, so per-day grouping works the same for one day and for many), then for each level i
= 1..levels ``ask_price_i, ask_size_i, bid_price_i, bid_size_i`` (float64; prices in dollars; NaN price *and*
size for an empty level, so sizes are float64 too).

``halt`` is True on every row while trading is halted: from a type-7 message with code -1 up to, not
including, the type-7 message with code 1 that resumes trading (the quoting message, code 0, is inside the
halt). The halt messages themselves are kept, so ``type == 7`` finds them; nothing is dropped silently.

``df.attrs`` holds ``ticker`` (from the file name, None when the name does not say), ``levels`` and
``crossed_rows`` (how many crossed or locked rows were found: dropped with ``crossed="drop"``, kept with
``crossed="keep"``).

Validation
----------
Everything is checked with vectorized NumPy on the whole file; a problem raises :class:`LobsterFormatError` (a
``ValueError``) naming the file (``archive.zip:member.csv`` inside a zip), the first offending row (1-based,
the line number a text editor shows: the files have no header) and what was expected: an empty file; a file
that is not LOBSTER; a malformed row (wrong column count, a non-numeric cell, a bad time); message and book
row counts that differ; time going backwards; an unknown event type or direction; impossible prices or sizes;
order-book levels out of order or an empty level above an occupied one; and a crossed or locked book (best ask
<= best bid, both present). A damaged or truncated zip archive is reported the same way, naming the archive and the
member the damage is in.

Finding the files of each day (zip archives, folders, pairs) is :mod:`signalbench.data._lobster_files`; this module
parses and checks them and builds the frame.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from signalbench._validation import expected, integer
from signalbench.data._errors import LobsterFormatError
from signalbench.data._inputs import name_choice
from signalbench.data._lobster_files import Day, LobsterPath, Source, resolve

__all__ = ["LobsterFormatError", "load_lobster"]


#: LOBSTER's placeholder prices for a level that does not exist (size 0).
EMPTY_ASK = 9_999_999_999
EMPTY_BID = -9_999_999_999
#: Prices in the files are dollars times this.
PRICE_SCALE = 10_000
#: Event types: 1 submission, 2 partial cancellation, 3 deletion, 4 visible execution, 5 hidden execution,
#: 6 cross trade, 7 trading halt.
EVENT_TYPES = (1, 2, 3, 4, 5, 6, 7)
HALT = 7

_MESSAGE_COLUMNS = ("time", "type", "order_id", "size", "price", "direction")
# Seconds after midnight with up to nine decimals; zeros beyond the ninth decimal are accepted (exact).
_TIME_PATTERN = r"^(?P<sec>[0-9]{1,5})(?:\.(?P<frac>[0-9]{1,9})0*)?$"
_TIME_RE = re.compile(_TIME_PATTERN.encode())
_INT_RE = re.compile(rb"^-?[0-9]{1,18}$")
_SECONDS_PER_DAY = 86_400
_NS = 1_000_000_000


# ----------------------------------------------------------------------------------------------------------
# Parsing one file
# ----------------------------------------------------------------------------------------------------------


def _error(name: str, row: int | None, problem: str, column: str | None = None) -> LobsterFormatError:
    where = name if row is None else f"{name}, row {row}"
    if column is not None:
        where += f", column {column}"
    return LobsterFormatError(f"{where}: {problem}", path=name, row=row, column=column)


def _check_line(fields: list[bytes], kinds: str) -> str | None:
    """Why a split line does not match ``kinds`` ('t' time, 'i' integer per column), or None when it does."""
    if len(fields) != len(kinds):
        return f"{len(fields)} columns, expected {len(kinds)}"
    for j, (field, kind) in enumerate(zip(fields, kinds)):
        ok = _TIME_RE.match(field) if kind == "t" else _INT_RE.match(field)
        if ok is None:
            expected = "seconds after midnight with up to 9 decimals" if kind == "t" else "an integer"
            return f"column {j + 1} is {field.decode(errors='replace')!r}, expected {expected}"
    return None


def _first_line(data: bytes) -> bytes:
    line = data.split(b"\n", 1)[0]
    return line[:-1] if line.endswith(b"\r") else line


def _lines(data: bytes) -> list[bytes]:
    return [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]


def _first_line_check(data: bytes, name: str, kinds: str, what: str) -> None:
    """Reject a file that is not LOBSTER at all from its first line, before parsing the rest."""
    first = _first_line(data)
    problem = _check_line(first.split(b","), kinds)
    if problem is not None:
        shown = first[:80].decode(errors="replace")
        raise _error(name, 1, f"not a LOBSTER {what} file: {problem} (got {shown!r}; LOBSTER files have no header)")


def _diagnose(data: bytes, name: str, kinds: str, arrow_error: Exception) -> LobsterFormatError:
    """Find the first malformed row after the fast parser refused the file (only runs on the error path)."""
    for i, line in enumerate(_lines(data)):
        problem = _check_line(line.split(b","), kinds)
        if problem is not None:
            shown = line[:120].decode(errors="replace")
            return _error(name, i + 1, f"malformed row: {problem} (row is {shown!r})")
    return _error(name, None, f"cannot be parsed as CSV: {arrow_error}")


def _read_bytes(source: Source) -> bytes:
    data = source.read()
    # A trailing blank line is harmless; blank lines inside the file are errors (they would shift the rows).
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, as some editors write
        data = data[3:]
    data = data.rstrip(b"\r\n\t ")
    if not data:
        raise _error(source.name, None, "the file is empty")
    return data


def _read_csv(data: bytes, name: str, columns: Sequence[str], kinds: str) -> pa.Table:
    types = {c: (pa.string() if k == "t" else pa.int64()) for c, k in zip(columns, kinds)}
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=list(columns)),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _diagnose(data, name, kinds, exc) from None
    if any(table.column(c).null_count for c in columns):  # cannot happen with null_values=[]; never let it pass
        raise _diagnose(data, name, kinds, ValueError("missing values"))
    return table


def _parse_times(time: pa.ChunkedArray, name: str) -> np.ndarray:
    """Seconds after midnight as text -> int64 nanoseconds, exactly (integer and fraction parsed apart)."""
    time = time.combine_chunks()
    bad = pc.invert(pc.match_substring_regex(time, _TIME_PATTERN)).to_numpy(zero_copy_only=False)
    if bad.any():
        i = _first(bad)
        raise _error(name, i + 1, f"malformed time {time[i].as_py()!r}, expected seconds after midnight", "time")
    # "34200.05990197" + "." -> ["34200", "05990197", ""]; "34200" + "." -> ["34200", ""].
    parts = pc.split_pattern(pc.binary_join_element_wise(time, "", "."), ".", max_splits=2)
    sec = pc.cast(pc.list_element(parts, 0), pa.int64()).to_numpy()
    frac = pc.utf8_rpad(pc.utf8_rtrim(pc.list_element(parts, 1), "0"), width=9, padding="0")
    frac_ns = pc.cast(frac, pa.int64()).to_numpy()
    late = sec >= _SECONDS_PER_DAY
    if late.any():
        i = _first(late)
        raise _error(name, i + 1, f"time {time[i].as_py()} is not within a day (< 86400 seconds)", "time")
    return sec * _NS + frac_ns


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _book_column(kind: int, level: int) -> str:
    return ("ask_price", "ask_size", "bid_price", "bid_size")[kind] + f"_{level}"


# ----------------------------------------------------------------------------------------------------------
# One day
# ----------------------------------------------------------------------------------------------------------


@dataclass
class _Loaded:
    day: Day
    ns: np.ndarray  # int64 nanoseconds since the epoch
    columns: dict[str, np.ndarray]
    levels: int
    crossed: int  # crossed or locked rows found (dropped or kept, as asked)


def _check(mask: np.ndarray, name: str, column: str, problem) -> None:
    """Raise for the first row where ``mask`` is True; ``problem(i)`` says what is wrong with row ``i``."""
    if mask.any():
        i = _first(mask)
        raise _error(name, i + 1, problem(i), column)


def _invalid(values: np.ndarray, what: str, mask: np.ndarray):
    """``problem`` for :func:`_check`: the value, what was expected and how many rows are affected."""
    return lambda i: f"{values[i]} is invalid, expected {what} ({int(mask.sum())} such rows)"


def _read_day(day: Day, levels: int | None) -> tuple[bytes, bytes, int, int]:
    """Read both files of a day and check their first lines: ``(message, book, levels in file, levels kept)``."""
    msg_data = _read_bytes(day.message)
    _first_line_check(msg_data, day.message.name, "tiiiii", "message")
    book_name = day.orderbook.name
    book_data = _read_bytes(day.orderbook)
    first = _first_line(book_data).split(b",")
    file_levels = len(first) // 4
    if len(first) % 4 or file_levels == 0:
        raise _error(
            book_name,
            1,
            f"not a LOBSTER order-book file: {len(first)} columns, expected 4 per level "
            "(ask price, ask size, bid price, bid size)",
        )
    _first_line_check(book_data, book_name, "i" * len(first), "order-book")
    if day.level is not None and day.level != file_levels:
        raise _error(book_name, 1, f"{len(first)} columns ({file_levels} levels) but the file name says {day.level}")
    if levels is not None and levels > file_levels:
        raise ValueError(expected("levels", f"at most the {file_levels} level(s) of {book_name}", levels))
    return msg_data, book_data, file_levels, file_levels if levels is None else levels


def _parse_day(day: Day, msg_data: bytes, book_data: bytes, file_levels: int) -> tuple[pa.Table, pa.Table]:
    """Parse both files and check that their rows pair up (row k of the book is the book after message k)."""
    msg_name, book_name = day.message.name, day.orderbook.name
    message = _read_csv(msg_data, msg_name, _MESSAGE_COLUMNS, "tiiiii")
    book_columns = [f"c{j}" for j in range(4 * file_levels)]
    book = _read_csv(book_data, book_name, book_columns, "i" * (4 * file_levels))
    n, n_book = message.num_rows, book.num_rows
    if n != n_book:
        longer, shorter = (msg_name, book_name) if n > n_book else (book_name, msg_name)
        raise _error(
            longer,
            min(n, n_book) + 1,
            f"message file has {n} rows but order-book file has {n_book}: this row has no counterpart in "
            f"{shorter} (row k of the order book is the book after message k)",
        )
    return message, book


def _times_of_day(message: pa.Table, name: str) -> np.ndarray:
    """Nanoseconds after midnight of each message, checked to never go backwards."""
    tod = _parse_times(message.column("time"), name)
    back = np.flatnonzero(tod[1:] < tod[:-1])
    if back.size:
        i = int(back[0]) + 1
        text = message.column("time")
        raise _error(
            name, i + 1, f"time goes backwards: {text[i].as_py()} after {text[i - 1].as_py()} at row {i}", "time"
        )
    return tod


def _message_fields(message: pa.Table, name: str) -> dict[str, np.ndarray]:
    """The integer fields of the messages, each checked against LOBSTER's rules."""
    f = {c: message.column(c).to_numpy() for c in ("type", "order_id", "size", "price", "direction")}
    etype, price = f["type"], f["price"]
    for mask, column, what in (
        (
            ~np.isin(etype, EVENT_TYPES),
            "type",
            "an event type 1-7 (1 new order, 2 partial cancel, 3 delete, 4/5 execution, 6 cross, 7 halt)",
        ),
        ((f["direction"] != 1) & (f["direction"] != -1), "direction", "-1 (sell) or 1 (buy)"),
        (f["size"] < 0, "size", "a size >= 0"),
        (f["order_id"] < 0, "order_id", "an order id >= 0"),
        (
            (etype == HALT) & ((price < -1) | (price > 1)),
            "price",
            "a halt code -1 (halt), 0 (quoting) or 1 (resume) on a type-7 row",
        ),
        ((etype != HALT) & (price <= 0), "price", "a price > 0 (dollars x 10000)"),
    ):
        _check(mask, name, column, _invalid(f[column], what, mask))
    return f


def _book_side(raw: list[np.ndarray], present: dict, name: str, lvl: int, side: str) -> None:
    """Check one side of one book level and record where it is occupied in ``present``."""
    kind_p, kind_s, empty = (0, 1, EMPTY_ASK) if side == "ask" else (2, 3, EMPTY_BID)
    p, s = raw[4 * (lvl - 1) + kind_p], raw[4 * (lvl - 1) + kind_s]
    is_empty = p == empty
    price_col, size_col = _book_column(kind_p, lvl), _book_column(kind_s, lvl)
    bad_price = ~is_empty & ((p <= 0) | (p >= EMPTY_ASK))
    _check(
        bad_price,
        name,
        price_col,
        lambda i: f"price {p[i]} is invalid, expected > 0 (dollars x 10000) or the empty-level placeholder {empty}",
    )
    _check(
        (s < 0) | (is_empty & (s != 0)),
        name,
        size_col,
        lambda i: f"size {s[i]} is invalid, expected >= 0 (and 0 on an empty level)",
    )
    here = ~is_empty
    if lvl > 1:
        _check(
            here & ~present[(side, lvl - 1)],
            name,
            price_col,
            lambda i: f"level {lvl} is occupied but level {lvl - 1} is empty",
        )
        prev = raw[4 * (lvl - 2) + kind_p]
        order = "rise" if side == "ask" else "fall"
        _check(
            here & ((p <= prev) if side == "ask" else (p >= prev)),
            name,
            price_col,
            lambda i: (
                f"{side} price {p[i]} at level {lvl} does not {order} from {prev[i]} at level {lvl - 1} "
                "(levels are distinct occupied prices)"
            ),
        )
    present[(side, lvl)] = here


def _book(book: pa.Table, keep: int, name: str) -> tuple[list[np.ndarray], dict]:
    """The kept levels' raw integer columns, checked, and where each side of each level is occupied."""
    raw = [book.column(j).to_numpy() for j in range(4 * keep)]
    present: dict[tuple[str, int], np.ndarray] = {}
    for lvl in range(1, keep + 1):
        for side in ("ask", "bid"):
            _book_side(raw, present, name, lvl, side)
    return raw, present


def _crossed_rows(raw: list[np.ndarray], present: dict, crossed: str, name: str) -> np.ndarray:
    """Rows whose best ask <= best bid (both present); an error naming the first unless they are kept or dropped."""
    ask1, bid1 = raw[0], raw[2]
    rows = present[("ask", 1)] & present[("bid", 1)] & (ask1 <= bid1)
    if crossed == "raise":
        _check(
            rows,
            name,
            "ask_price_1",
            lambda i: (
                f"crossed or locked book: best ask {ask1[i] / PRICE_SCALE} <= best bid "
                f"{bid1[i] / PRICE_SCALE}; {int(rows.sum())} such row(s) in the file. Pass crossed='drop' to drop "
                "them or crossed='keep' to keep them"
            ),
        )
    return rows


def _halted(etype: np.ndarray, price_raw: np.ndarray) -> np.ndarray:
    """After a type-7 row with code -1 or 0 trading is halted, after one with code 1 it runs again."""
    idx = np.where(etype == HALT, np.arange(etype.size), -1)
    last_halt_msg = np.maximum.accumulate(idx) if etype.size else idx
    return (last_halt_msg >= 0) & (price_raw[np.maximum(last_halt_msg, 0)] != 1)


def _columns(day: Day, f: dict, raw: list[np.ndarray], present: dict, keep: int) -> dict[str, np.ndarray]:
    """The output columns of one day, in order: messages, halt, day, then the book in dollars with NaN for empty."""
    price = f["price"] / PRICE_SCALE
    price[f["type"] == HALT] = np.nan
    date_ns = day.date.astype("datetime64[ns]").astype(np.int64)
    columns: dict[str, np.ndarray] = {
        "type": f["type"].astype(np.int8),
        "order_id": f["order_id"],
        "size": f["size"],
        "price": price,
        "direction": f["direction"].astype(np.int8),
        "halt": _halted(f["type"], f["price"]),
        "day": np.full(price.size, date_ns, dtype=np.int64).view("datetime64[ns]"),
    }
    for lvl in range(1, keep + 1):
        for kind in range(4):
            values = raw[4 * (lvl - 1) + kind].astype(np.float64)
            if kind in (0, 2):
                values /= PRICE_SCALE
            values[~present[("ask" if kind < 2 else "bid", lvl)]] = np.nan
            columns[_book_column(kind, lvl)] = values
    return columns


def _load_day(day: Day, levels: int | None, crossed: str) -> _Loaded:
    msg_data, book_data, file_levels, keep = _read_day(day, levels)
    message, book = _parse_day(day, msg_data, book_data, file_levels)
    tod = _times_of_day(message, day.message.name)
    fields = _message_fields(message, day.message.name)
    raw, present = _book(book, keep, day.orderbook.name)
    crossed_rows = _crossed_rows(raw, present, crossed, day.orderbook.name)
    columns = _columns(day, fields, raw, present, keep)
    ns = day.date.astype("datetime64[ns]").astype(np.int64) + tod
    if crossed == "drop" and crossed_rows.any():
        keep_rows = ~crossed_rows
        columns = {k: v[keep_rows] for k, v in columns.items()}
        ns = ns[keep_rows]
    return _Loaded(day, ns, columns, keep, int(crossed_rows.sum()))


# ----------------------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------------------


def load_lobster(
    path: LobsterPath,
    *,
    levels: int | None = None,
    crossed: Literal["raise", "drop", "keep"] = "raise",
) -> pd.DataFrame:
    """Load LOBSTER message and order-book files (one day or several) into one DataFrame indexed by time.

    See the module docstring for the file format, the returned columns and their dtypes, and the checks made.

    Parameters
    ----------
    path : path, tuple of two paths, or list
        Where the data is:

        - a LOBSTER zip archive as distributed (one or several days inside);
        - a folder holding, directly, LOBSTER zip archives and/or extracted CSV pairs (one or several days;
          other files are ignored);
        - a ``(message, orderbook)`` tuple of the two CSV files of one day (the date is read from the file
          name, which must contain a ``YYYY-MM-DD`` date);
        - one CSV named as LOBSTER names it (its partner is looked up next to it);
        - a list of any of the above, in any order.

        Days are returned in date order. All days must be the same ticker, and a day may appear only once.
    levels : int, optional
        Keep the first ``levels`` levels of the book (1 = best bid and ask only). None (the default) keeps
        every level in the file, and then all days must have the same number of levels.
    crossed : {"raise", "drop", "keep"}, default "raise"
        What to do with rows whose book is crossed or locked (best ask <= best bid, both present), which an
        exchange's own book never shows and which usually mean a reconstruction problem: ``"raise"`` a
        :class:`LobsterFormatError` naming the first such row and their count; ``"drop"`` those rows (their
        messages too: the remaining rows stay consistent); ``"keep"`` them unchanged (e.g. to study them;
        features such as the spread will then be <= 0 there).

    Returns
    -------
    pandas.DataFrame
        One row per event, indexed by a sorted (not unique) ``DatetimeIndex`` named ``timestamp`` (naive,
        exchange local time, nanosecond precision), with columns ``type, order_id, size, price, direction,
        halt, day`` and ``ask_price_i, ask_size_i, bid_price_i, bid_size_i`` for i = 1..levels; prices in
        dollars, empty levels NaN. ``attrs`` holds ``ticker``, ``levels`` and ``crossed_rows``.

    Raises
    ------
    LobsterFormatError
        When a file is empty, is not LOBSTER, has a malformed row, or fails a consistency check (row counts
        differ, time goes backwards, unknown event type, impossible price or size, levels out of order,
        crossed book with ``crossed="raise"``), or when days mix tickers or repeat a date. The message names
        the file and the first offending row (1-based, as a text editor numbers lines).
    FileNotFoundError
        When a path does not exist.
    ValueError
        When ``levels`` is < 1 or exceeds the levels in a file, when days differ in their number of levels and
        ``levels`` is None, when ``crossed`` is not one of its three values, or when ``path`` is an empty list or
        a tuple of other than two paths. A damaged or truncated zip archive is a :class:`LobsterFormatError` naming
        the archive and the member.
    TypeError
        When ``path`` is none of the accepted kinds, ``levels`` is not an integer (``1.5``, ``True``) or
        ``crossed`` is not a string.
    """
    return load_days(resolve(path), levels=levels, crossed=crossed)


def load_days(days: list[Day], *, levels: int | None = None, crossed: str = "raise") -> pd.DataFrame:
    """:func:`load_lobster` of days already found by :func:`signalbench.data._lobster_files.resolve` (same checks)."""
    levels = integer(levels, "levels", minimum=1, allow_none=True)
    crossed = name_choice(crossed, "crossed", ("raise", "drop", "keep"))
    days = sorted(days, key=lambda d: d.date)
    tickers = {d.ticker for d in days if d.ticker is not None}
    if len(tickers) > 1:
        raise LobsterFormatError(
            f"load_lobster loads one ticker at a time, got {', '.join(sorted(tickers))}",
            path=days[0].message.name,
        )
    for a, b in zip(days, days[1:]):
        if a.date == b.date:
            raise LobsterFormatError(
                f"two files for the same trading day {a.date}: {a.message.name} and {b.message.name}",
                path=b.message.name,
            )
    loaded = [_load_day(d, levels, crossed) for d in days]
    counts = {x.levels for x in loaded}
    if len(counts) > 1:
        detail = ", ".join(f"{x.day.message.name}: {x.levels}" for x in loaded)
        raise ValueError(
            expected(
                "levels",
                "None only when all days have the same number of book levels",
                f"None, and the days have different numbers of levels ({detail})",
                raw=True,
                hint="pass levels=k to keep k of them",
            )
        )
    if len(loaded) == 1:
        columns, ns = loaded[0].columns, loaded[0].ns
    else:
        columns = {k: np.concatenate([x.columns[k] for x in loaded]) for k in loaded[0].columns}
        ns = np.concatenate([x.ns for x in loaded])
    index = pd.DatetimeIndex(ns.view("datetime64[ns]"), name="timestamp")
    frame = pd.DataFrame(columns, index=index, copy=False)
    frame.attrs["ticker"] = tickers.pop() if tickers else None
    frame.attrs["levels"] = loaded[0].levels
    frame.attrs["crossed_rows"] = sum(x.crossed for x in loaded)
    return frame
