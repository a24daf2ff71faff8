"""Pages of one symbol's bars or features over a time range, piece by piece, with a keyset cursor.

A page walks the symbol's pieces in day order and, inside a piece, its rows in time order (the loader's order).
Each row is named by ``(day, row)``: its piece's day and its position in that piece's frame, which never change
(a piece is a pure function of its files), so the cursor ``"<day>:<row>"`` (the first row of the next page) is
stable across pages. ``start`` is inclusive, ``end`` exclusive, compared with the piece's time index.

Loaded pieces are kept in memory: the rows of the last :data:`ROWS_CACHED` pieces and the features of the last
:data:`FEATURES_CACHED` (piece, feature sets) pairs (:class:`signalbench.service.lru.LoadOnce`). Features are
computed on one piece alone (:func:`signalbench.data.pieces.derive`), so no rolling feature crosses a day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from signalbench.service.lru import LoadOnce

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
ROWS_CACHED = 4
FEATURES_CACHED = 8
KEYS = ("timestamp", "day", "row")
_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2}):(\d{1,12})")


@dataclass
class Page:
    """The rows of a page (``timestamp``, ``day``, ``row``, then the data columns) and the next page's cursor."""

    frame: pd.DataFrame
    next_cursor: str | None


def parse_cursor(text: str) -> tuple[str, int]:
    """``"<day>:<row>"`` as (day, row); ValueError in the house form otherwise."""
    m = _CURSOR.fullmatch(text)
    if m is None:
        raise ValueError(f"cursor: expected '<YYYY-MM-DD>:<row>' (a page's next_cursor), got {text!r}")
    return m.group(1), int(m.group(2))


def _key(piece) -> tuple[str, str, str]:
    """A hashable key of a piece, from which the piece is rebuilt (:func:`_piece`)."""
    return piece.symbol, piece.day, json.dumps(piece.source, sort_keys=True)


def _piece(key: tuple[str, str, str]):
    from signalbench.data.pieces import Piece

    return Piece(key[0], key[1], json.loads(key[2]))


@dataclass
class _Loaded:
    raw: pd.DataFrame  # the piece's rows as loaded
    bars: bool  # a bars piece (traded at close)
    table: pd.DataFrame  # what kind=bars serves: the rows (less the key columns) and the traded price


class PieceTables:
    """A symbol's piece as a table of bars or of features, loaded through two small LRU caches."""

    def __init__(self) -> None:
        self.rows = LoadOnce(self._load_rows, ROWS_CACHED)
        self.features = LoadOnce(self._load_features, FEATURES_CACHED)

    def _load_rows(self, key: tuple[str, str, str]) -> _Loaded:
        from signalbench.data.pieces import derive, load_rows

        piece = _piece(key)
        raw, _ = load_rows(piece)
        bars = piece.source["kind"] == "bars"
        price = derive(raw, None, spread=False, bars=bars).price
        table = raw.drop(columns=[c for c in raw.columns if c in KEYS])
        if price.name not in table.columns:  # the traded price: the mid of a book (bars trade at close)
            table[price.name] = price.to_numpy()
        return _Loaded(raw, bars, table)

    def _load_features(self, key: tuple[tuple[str, str, str], tuple[str, ...]]) -> pd.DataFrame:
        from signalbench.data.pieces import derive

        loaded = self.rows.get(key[0])
        return derive(loaded.raw, list(key[1]), spread=False, bars=loaded.bars).features

    def table(self, piece, features: tuple[str, ...] | None) -> pd.DataFrame:
        """The piece's bars (``features=None``) or its features (feature-set names)."""
        key = _key(piece)
        if features is None:
            return self.rows.get(key).table
        return self.features.get((key, features))


def _bounds(index: pd.Index, start, end) -> tuple[int, int]:
    lo = 0 if start is None else int(index.searchsorted(start, side="left"))
    hi = len(index) if end is None else int(index.searchsorted(end, side="left"))
    return lo, hi


def _may_hold(day: str, start, end) -> bool:
    """Whether a piece of ``day`` may hold rows in [start, end) (a day of margin for time zones)."""
    d = dt.date.fromisoformat(day)
    one = dt.timedelta(days=1)
    return (start is None or d >= start.date() - one) and (end is None or d <= end.date() + one)


def page(
    pieces: list,
    table: Callable[[object], pd.DataFrame],
    *,
    start=None,
    end=None,
    cursor: tuple[str, int] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """Up to ``limit`` rows from ``cursor`` on, in [start, end), over ``pieces`` (sorted by day)."""
    parts: list[pd.DataFrame] = []
    taken, next_cursor = 0, None
    for piece in pieces:
        if (cursor is not None and piece.day < cursor[0]) or not _may_hold(piece.day, start, end):
            continue
        t = table(piece)
        lo, hi = _bounds(t.index, align(start, t.index, "start"), align(end, t.index, "end"))
        if cursor is not None and piece.day == cursor[0]:
            lo = max(lo, cursor[1])
        if lo >= hi:
            continue
        if taken == limit:  # the page is full: the next one starts at this row
            next_cursor = f"{piece.day}:{lo}"
            break
        stop = min(hi, lo + limit - taken)
        part = t.iloc[lo:stop]
        keys = pd.DataFrame({"timestamp": part.index, "day": piece.day, "row": range(lo, stop)})
        parts.append(pd.concat([keys, part.reset_index(drop=True)], axis=1))
        taken += stop - lo
        if stop < hi:
            next_cursor = f"{piece.day}:{stop}"
            break
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(KEYS))
    return Page(frame, next_cursor)


def as_json(frame: pd.DataFrame) -> tuple[list[str], list[list]]:
    """The page's columns and rows for JSON: times as ISO 8601 (nanoseconds, with the data's offset), NaN as null."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[name] = col.astype(str).str.replace(" ", "T", n=1).where(col.notna(), None)
    out = out.replace([np.inf, -np.inf], np.nan).astype(object)
    out = out.where(out.notna(), None)
    rows = out.to_numpy().tolist()  # Python floats, exact when written as JSON
    return [str(c) for c in frame.columns], rows


def parse_time(text: str | None, name: str) -> pd.Timestamp | None:
    """An ISO timestamp query parameter (None when absent); ValueError naming ``name`` otherwise."""
    if text is None:
        return None
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        ts = None
    if ts is None or ts is pd.NaT:
        raise ValueError(f"{name}: expected an ISO 8601 timestamp such as 2012-06-21T10:00:00, got {text!r}")
    return ts


def align(ts: pd.Timestamp | None, index: pd.Index, name: str) -> pd.Timestamp | None:
    """``ts`` in the time zone of ``index``.

    A naive time is read in the data's zone; a zoned one for naive data is refused (their times carry no zone).
    """
    tz = getattr(index, "tz", None)
    if ts is None or (ts.tz is None) == (tz is None):
        return ts if ts is None or tz is None else ts.tz_convert(tz)
    if tz is None:
        raise ValueError(f"{name}: expected a time without a zone (this data's times have none), got {ts.isoformat()}")
    return ts.tz_localize(tz)


def feature_sets(text: str | None, kind: str) -> tuple[str, ...] | None:
    """The ``features`` parameter: comma-separated feature-set names with ``kind=features``, none with bars."""
    from signalbench._validation import choice
    from signalbench.data.features import available_feature_sets

    if kind == "bars":
        if text:
            raise ValueError(f"features: expected none with kind=bars (add kind=features), got {text!r}")
        return None
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    if not names:
        raise ValueError("features: expected feature-set names with kind=features (features=lob_basic), got none")
    return tuple(choice(n, "features", available_feature_sets()) for n in names)
