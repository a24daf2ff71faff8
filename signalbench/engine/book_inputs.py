"""The inputs of the book cost model, checked once: the order book as integer arrays, the size, the latency.

The book is ``load_lobster``'s frame (or any frame with its columns): ``ask_price_i, ask_size_i, bid_price_i,
bid_size_i`` for i = 1..levels, prices in dollars. It leaves here as four (n, levels) int64 arrays: prices in
LOBSTER's ticks (dollars x 10,000, rounded to the nearest tick) and sizes in shares. A level is *empty* when its
price is NaN (``load_lobster``), its size is 0 (LOBSTER's own files write 9999999999 / -9999999999 with size 0)
or its price is one of those markers; an empty level has size 0 here and is skipped by the walk.

Every row must show a two-sided, uncrossed quote (best ask > best bid, both present): the cost is measured
against the mid, and a crossed or locked row (which ``load_lobster(crossed="keep")`` keeps) has no meaningful
mid and would make the cost of a trade negative or non-convex (the oracle's exactness rests on convexity; see
:mod:`signalbench.engine.book_oracle`). Such a row is a ``ValueError`` naming it; ``load_lobster(...,
crossed="drop")`` drops them.

Latency in time (:func:`execution_source`): an order decided at row s executes at the first row whose timestamp is
at least ``time[s] + latency`` (never before s itself). The search runs over all rows: on a book of several days,
an order decided too close to a day's last event executes on the next day's first event; an order with no event
late enough never executes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from signalbench._validation import check_sorted_index, expected, integer, numeric_array, where

#: Prices in LOBSTER's files are dollars times this; the walk of the book is integer arithmetic on them.
PRICE_SCALE = 10_000
#: LOBSTER's placeholder prices for a level that does not exist (always with size 0).
EMPTY_MARKER = 9_999_999_999
_SIDES = (("ask", "price"), ("ask", "size"), ("bid", "price"), ("bid", "size"))
_LATENCY_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ns|us|µs|ms|s)\s*$")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


@dataclass(frozen=True)
class Book:
    """An order book as integer arrays, one row per price row, one column per level.

    Attributes
    ----------
    ask_px, ask_sz, bid_px, bid_sz : numpy.ndarray
        (n, levels) int64, C-ordered: prices in ticks (dollars x 10,000), sizes in shares; 0 on empty levels.
    times : numpy.ndarray or None
        (n,) int64 nanoseconds of the book's DatetimeIndex; None when it has none.
    index : pandas.Index or None
        The frame's index (checked against the prices' when the book is used again).
    """

    ask_px: np.ndarray
    ask_sz: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    times: np.ndarray | None
    index: pd.Index | None = None

    @property
    def levels(self) -> int:
        """The number of levels of each side."""
        return self.ask_px.shape[1]

    @property
    def mid(self) -> np.ndarray:
        """The mid in dollars, per row."""
        return (self.ask_px[:, 0] + self.bid_px[:, 0]) / (2 * PRICE_SCALE)


def book_levels(columns: pd.Index) -> int:
    """How many levels the frame's columns hold (``ask_price_1 ... ask_price_L`` with all four per level)."""
    names = {str(c) for c in columns}
    levels = 0
    while all(f"{s}_{k}_{levels + 1}" in names for s, k in _SIDES):
        levels += 1
    if levels == 0:
        shown = ", ".join(repr(c) for c in list(columns)[:8]) + (", ..." if len(columns) > 8 else "")
        raise ValueError(
            expected(
                "book",
                "a frame with columns ask_price_i, ask_size_i, bid_price_i, bid_size_i for i = 1..levels",
                f"columns {shown}",
                raw=True,
                hint="pass the frame load_lobster returns",
            )
        )
    return levels


def as_book(book: Any, n: int, index: pd.Index | None) -> Book:
    """Check ``book`` against ``n`` price rows (and the price's index) and convert it; see the module docstring.

    A :class:`Book` (converted before, e.g. once for every size of a capacity curve) is checked against ``n`` and
    ``index`` only, and returned as it is.
    """
    if not isinstance(book, pd.DataFrame | Book):
        raise TypeError(expected("book", "a pandas DataFrame (load_lobster's frame)", book))
    rows = book.ask_px.shape[0] if isinstance(book, Book) else len(book)
    if rows != n:
        raise ValueError(expected("book", f"{n} rows (one per price row)", f"{rows} rows", raw=True))
    if index is not None and book.index is not None and not book.index.equals(index):
        raise ValueError(expected("book's index", "the price's index", "another index", raw=True, hint="align them"))
    if isinstance(book, Book):
        return book
    check_sorted_index(book.index, "book")
    levels = book_levels(book.columns)
    arrays = [_side(book, side, kind, levels) for side, kind in _SIDES]
    px_ask, sz_ask, px_bid, sz_bid = arrays
    ask_px, ask_sz = _ticks(px_ask, sz_ask, "ask", book.index)
    bid_px, bid_sz = _ticks(px_bid, sz_bid, "bid", book.index)
    _check_order(ask_px, ask_sz, "ask", 1, book.index)
    _check_order(bid_px, bid_sz, "bid", -1, book.index)
    _check_quoted(ask_px, ask_sz, bid_px, bid_sz, book.index)
    times = book.index.as_unit("ns").asi8.copy() if isinstance(book.index, pd.DatetimeIndex) else None
    return Book(ask_px, ask_sz, bid_px, bid_sz, times, book.index)


def _side(book: pd.DataFrame, side: str, kind: str, levels: int) -> np.ndarray:
    """The (n, levels) float64 values of one side and kind (NaN kept: they mark empty levels)."""
    cols = [f"{side}_{kind}_{i}" for i in range(1, levels + 1)]
    columns = [book[c] for c in cols]
    if all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "fiu" for c in columns):  # plain numbers: at once
        out = np.column_stack([c.to_numpy(dtype=np.float64) for c in columns])
        if not np.isinf(out).any():
            return out
    out = np.empty((len(book), levels))  # column by column, so that the one at fault is named
    for i, col in enumerate(cols):
        out[:, i], _, _ = numeric_array(book[col], f"book[{col!r}]", ndim=(1,), allow_nan=True, allow_bool=False)
    return out


def _ticks(px: np.ndarray, sz: np.ndarray, side: str, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Integer ticks and shares of one side; empty levels (NaN price, size 0 or a marker) become 0 and 0."""
    ticks, shares, bad_size, bad_price = _ticks_nb(px, sz, EMPTY_MARKER / PRICE_SCALE, PRICE_SCALE)
    for values, kind, bad in ((sz, "size", bad_size), (px, "price", bad_price)):
        if bad >= 0:
            row, lvl = divmod(int(bad), px.shape[1])
            what = "whole shares > 0 (or 0 / NaN for an empty level)" if kind == "size" else "prices > 0"
            name = f"book[{f'{side}_{kind}_{lvl + 1}'!r}]"
            raise ValueError(expected(name, what, f"{values[row, lvl]}", at=where(row, index=index), raw=True))
    return ticks, shares


@njit(cache=True)
def _ticks_nb(px, sz, limit, scale):
    """One pass of :func:`_ticks`: ticks, shares, and the first (row-major) cell of a bad size and of a bad price.

    A marker (``|price| >= limit``: in dollars, or the raw one) is an empty level, as is a NaN price or size or a
    size of 0. Returns -1 where nothing is bad.
    """
    n, k = px.shape
    ticks = np.zeros((n, k), dtype=np.int64)
    shares = np.zeros((n, k), dtype=np.int64)
    bad_size = -1
    bad_price = -1
    for t in range(n):
        for i in range(k):
            p = px[t, i]
            s = sz[t, i]
            if np.isnan(p) or np.isnan(s) or s == 0 or abs(p) >= limit:
                continue
            if not (np.isfinite(s) and s > 0 and s == np.floor(s)):
                bad_size = t * k + i if bad_size < 0 else bad_size
            elif not (p > 0):
                bad_price = t * k + i if bad_price < 0 else bad_price
            else:
                ticks[t, i] = np.int64(np.rint(p * scale))
                shares[t, i] = np.int64(s)
    return ticks, shares, bad_size, bad_price


def _check_order(px: np.ndarray, sz: np.ndarray, side: str, sign: int, index: pd.Index) -> None:
    """Occupied levels must move away from the mid: asks rise and bids fall strictly with the level."""
    both = (sz[:, 1:] > 0) & (sz[:, :-1] > 0)
    bad = both & (sign * (px[:, 1:] - px[:, :-1]) <= 0)
    if bad.any():
        row, lvl = (int(v) for v in np.argwhere(bad)[0])
        what = f"{side} prices {'rising' if sign > 0 else 'falling'} strictly with the level"
        got = f"{px[row, lvl + 1] / PRICE_SCALE} at level {lvl + 2} after {px[row, lvl] / PRICE_SCALE}"
        raise ValueError(expected("book", what, got, at=where(row, index=index), raw=True))


def _check_quoted(
    ask_px: np.ndarray, ask_sz: np.ndarray, bid_px: np.ndarray, bid_sz: np.ndarray, index: pd.Index
) -> None:
    """Every row needs both best levels and best ask > best bid (the mid the cost is measured against)."""
    missing = (ask_sz[:, 0] == 0) | (bid_sz[:, 0] == 0)
    crossed = ~missing & (ask_px[:, 0] <= bid_px[:, 0])
    what = "a two-sided, uncrossed quote on every row (best ask > best bid, both present)"
    if missing.any():
        row = int(np.argmax(missing))
        side = "ask" if ask_sz[row, 0] == 0 else "bid"
        raise ValueError(expected("book", what, f"no {side} at level 1", at=where(row, index=index), raw=True))
    if crossed.any():
        row = int(np.argmax(crossed))
        got = f"best ask {ask_px[row, 0] / PRICE_SCALE} <= best bid {bid_px[row, 0] / PRICE_SCALE}"
        hint = f"{int(crossed.sum())} such row(s); load_lobster(..., crossed='drop') drops crossed or locked rows"
        raise ValueError(expected("book", what, got, at=where(row, index=index), raw=True, hint=hint))


def parse_latency(latency: Any) -> int:
    """A latency in nanoseconds from ``"250us"`` (units ns, us, µs, ms, s) or a number of microseconds (>= 0)."""
    what = 'a duration such as "250us", "1.5ms" or "2s", or a number of microseconds >= 0'
    if isinstance(latency, str):
        match = _LATENCY_RE.match(latency)
        if match is None:
            raise ValueError(expected("latency", what, latency))
        return int(round(float(match.group(1)) * _UNIT_NS[match.group(2)]))
    if isinstance(latency, bool) or not isinstance(latency, int | float | np.integer | np.floating):
        raise TypeError(expected("latency", what, latency))
    if not np.isfinite(latency) or latency < 0:
        raise ValueError(expected("latency", what, latency))
    return int(round(float(latency) * 1_000))


def execution_source(n: int, delay: Any, latency: Any, times: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Per execution row t, the decision row whose target is in force there (-1: none yet), and ``delay``.

    With ``delay`` d (rows): ``t - d``. With ``latency``: decision s executes at ``x[s]``, the first row with
    ``time >= time[s] + latency`` (and ``>= s``); at row t the latest decision executed by then is in force:
    ``max{s : x[s] <= t}``. Decisions overtaken inside a burst (several executing at one row) never trade.
    """
    if latency is not None and delay not in (None, 0):
        raise ValueError(
            expected("latency", "latency or delay, not both", f"latency={latency!r} and delay={delay!r}", raw=True)
        )
    if latency is None:
        d = integer(0 if delay is None else delay, "delay", minimum=0)
        return np.arange(n, dtype=np.int64) - d, d
    lat = parse_latency(latency)
    if times is None:
        raise ValueError(
            expected(
                "latency",
                "a book indexed by time (a DatetimeIndex)",
                "a book without timestamps",
                raw=True,
                hint="pass delay (rows) instead",
            )
        )
    arrive = np.maximum(np.searchsorted(times, times + lat, side="left"), np.arange(n))
    return np.searchsorted(arrive, np.arange(n), side="right").astype(np.int64) - 1, 0
