"""Bars as pieces: one (symbol, calendar day) each, from one file per symbol or one long file with a symbol column.

The symbol of a file is ``[data] symbol`` when given, else the file name's stem up to its first ``_``
(``AAPL_1min.csv`` -> ``AAPL``); a file with a ``symbol`` column holds several symbols (each checked as
:func:`signalbench.data.load_bars` checks a file). Days are calendar days of the timestamps as loaded (in ``tz``
when given, else in the file's own zone).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from signalbench.data._errors import DataFormatError
from signalbench.data._piece import Piece, expand, one_per_symbol_day

__all__ = ["bars_pieces", "load_bars_piece"]

SYMBOL_COLUMN = "symbol"


def _symbol_column(frame: pd.DataFrame) -> str | None:
    found = [c for c in frame.columns if str(c).strip().lower() == SYMBOL_COLUMN]
    return found[0] if found else None


def _symbol_rows(frame: pd.DataFrame, column: str, where) -> dict[str, np.ndarray]:
    """Row positions of each symbol of a long file; an empty symbol is an error naming the file and row."""
    values = frame[column]
    text = values.astype("string").str.strip()
    empty = (values.isna() | (text == "")).to_numpy(dtype=bool)
    where.check(empty, lambda i: "expected a symbol, got an empty value", column=str(column))
    codes, names = pd.factorize(text.to_numpy(dtype=object), sort=True)
    return {str(name): np.flatnonzero(codes == k) for k, name in enumerate(names)}


_COMPRESSED = (".gz", ".bz2", ".xz", ".zip", ".zst", ".tar")


def name_symbol(path: str | Path) -> str:
    """The symbol a file name gives: its stem (without the format and compression suffixes) up to the first ``_``."""
    p = Path(path)
    if p.suffix.lower() in _COMPRESSED:
        p = Path(p.stem)
    return p.stem.split("_")[0]


def load_symbols(path: str | Path, *, symbol: str | None, timestamp: str | None, tz: str | None) -> dict:
    """``{symbol: bars}`` of one file, each symbol's rows validated as :func:`load_bars` validates a file.

    The last few results are kept (keyed by the file's path, size and modification time), so the pieces of one file
    loaded one after another read it once.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"bars file not found: {p}")
    stat = p.stat()
    return _load_symbols(str(p), stat.st_size, stat.st_mtime_ns, symbol, timestamp, tz)


@functools.lru_cache(maxsize=4)
def _load_symbols(path: str, _size: int, _mtime: int, symbol: str | None, timestamp: str | None, tz: str | None):
    from signalbench.data.bars import RowsOf, read_bars, validated

    frame, where = read_bars(path)
    column = _symbol_column(frame)
    if column is None:
        name = symbol if symbol is not None else name_symbol(path)
        if not name:
            raise DataFormatError(
                f"{path}: expected a file name that starts with the symbol (SYMBOL_....csv), a 'symbol' column or "
                '[data] symbol = "...", got none',
                path=str(path),
            )
        return {name: validated(frame, where, timestamp=timestamp, tz=tz)}
    out = {}
    for name, rows in _symbol_rows(frame, column, where).items():
        if symbol is None or name == symbol:
            part = validated(frame.iloc[rows], RowsOf(where, rows, name), timestamp=timestamp, tz=tz)
            out[name] = part.drop(columns=[column])
    if symbol is not None and not out:
        raise DataFormatError(
            f"{path}: expected rows of symbol {symbol!r} in column {column!r}, got none",
            path=str(path),
            column=str(column),
        )
    return out


def _days(bars: pd.DataFrame) -> list[str]:
    return sorted(set(bars.index.normalize().strftime("%Y-%m-%d")))


def bars_pieces(data, base_dir: Path) -> list[Piece]:
    """One piece per (symbol, calendar day) of the bars files of ``data`` (every file is read and checked)."""
    pieces = []
    symbol = getattr(data, "symbol", None)
    for path in expand(data.path, base_dir):
        for name, bars in load_symbols(path, symbol=symbol, timestamp=data.timestamp, tz=data.tz).items():
            source = {"kind": "bars", "path": str(path), "symbol": name, "timestamp": data.timestamp, "tz": data.tz}
            pieces += [Piece(name, day, {**source, "day": day}) for day in _days(bars)]
    return one_per_symbol_day(pieces, lambda p: p.source["path"])


def load_bars_piece(piece: Piece) -> pd.DataFrame:
    """The bars of one piece: its symbol's rows of its file on its day."""
    s = piece.source
    bars = load_symbols(s["path"], symbol=s["symbol"], timestamp=s["timestamp"], tz=s["tz"])[s["symbol"]]
    return bars[bars.index.normalize().strftime("%Y-%m-%d") == s["day"]].copy()  # a copy: the file's stays cached
