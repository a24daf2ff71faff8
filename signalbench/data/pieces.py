"""Many symbols x many days as pieces: one (symbol, trading day) each, found by name and loaded one at a time.

:func:`discover` turns the ``[data]`` section of an experiment into a sorted list of :class:`Piece` (for LOBSTER from
the file names only, no rows read); :func:`load_piece` loads one piece's rows and computes its causal features from
that piece alone, so no rolling feature crosses a day or a symbol. A piece is a pure function of its ``source`` (a
JSON-able dict): synthetic pieces draw from a seed derived from (seed, symbol index, day index).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from signalbench.data._errors import DataFormatError
from signalbench.data._piece import Piece, expand, one_per_symbol_day

if TYPE_CHECKING:
    from signalbench.experiment.config import Data

__all__ = ["Piece", "PieceData", "discover", "load_piece", "load_rows", "synthetic_layout"]

#: The first trading day of synthetic pieces (the days are consecutive business days from it).
SYNTHETIC_START = "2020-01-02"


@dataclass
class PieceData:
    """One piece's rows and what an experiment computes from them alone.

    Attributes
    ----------
    frame : pandas.DataFrame
        The piece's rows (with the book columns that book costs need).
    features : pandas.DataFrame
        Causal features of this piece only (their warm-up restarts at the piece's first row).
    price : pandas.Series
        The traded price: the mid (books, ticks) or the close (bars).
    half_spread_bps : numpy.ndarray or None
        The quoted half spread in bps per row, when asked for (``spread=True``).
    bayes_accuracy : float or None
        The Bayes-optimal accuracy of a synthetic piece.
    """

    frame: pd.DataFrame
    features: pd.DataFrame
    price: pd.Series
    half_spread_bps: np.ndarray | None
    bayes_accuracy: float | None


# --------------------------------------------------------------------------------------------------- discover


def discover(data: Data, base_dir: str | Path, *, seed: int | None = None) -> list[Piece]:
    """The pieces of a ``[data]`` section, sorted by (day, symbol); paths are relative to ``base_dir``.

    ``seed`` (the experiment's) seeds synthetic data whose section gives none (then 0).

    Raises
    ------
    DataFormatError
        When a pattern matches nothing, a file name gives no symbol or date, a message file has no order-book
        pair, or two files hold the same (symbol, day); the message names the file.
    """
    if data.kind == "synthetic":
        pieces = _synthetic_pieces(data, seed)
    elif data.kind == "lobster":
        pieces = _lobster_pieces(data, Path(base_dir))
    else:
        from signalbench.data._bars_pieces import bars_pieces

        pieces = bars_pieces(data, Path(base_dir))
    return sorted(pieces, key=lambda p: (p.day, p.symbol))


def synthetic_layout(n: int, ticks_per_day: int | None, days: int | None) -> list[int]:
    """Rows of each synthetic day of one symbol: ``n`` rows in days of ``ticks_per_day`` (or ``n / days``) rows."""
    per = ticks_per_day if ticks_per_day is not None else math.ceil(n / (days or 1))
    count = math.ceil(n / per) if days is None else days
    rows = [min(per, n - d * per) for d in range(count)]
    if rows[-1] < 2:
        raise ValueError(
            f"days: expected every synthetic day to get at least 2 of the n = {n} rows, got {rows[-1]} on day "
            f"{count} ({per} rows a day); raise n or lower days"
        )
    return rows


def piece_seed(seed: int, symbol: int, day: int) -> int:
    """The seed of one synthetic piece, derived from (seed, symbol index, day index)."""
    return int(np.random.SeedSequence([seed, symbol, day]).generate_state(1, np.uint32)[0])


def _synthetic_pieces(data, seed: int | None) -> list[Piece]:
    seed = data.seed if data.seed is not None else (seed or 0)
    rows = synthetic_layout(data.n, data.ticks_per_day, getattr(data, "days", None))
    dates = pd.bdate_range(SYNTHETIC_START, periods=len(rows))
    pieces = []
    for s in range(getattr(data, "symbols", 1)):
        for d, (n, date) in enumerate(zip(rows, dates)):
            source = {
                "kind": "synthetic",
                "n": n,
                "seed": piece_seed(seed, s, d),
                "edge": data.edge,
                "signal": data.signal,
                "flow_window": data.flow_window,
                "levels": data.levels,
                "leaky": data.leaky,
                "start": date.date().isoformat(),
            }
            pieces.append(Piece(f"SYN{s}", date.date().isoformat(), source))
    return pieces


def _lobster_pieces(data, base_dir: Path) -> list[Piece]:
    from signalbench.data._lobster_files import resolve

    pieces: dict[str, Piece] = {}  # by message file: a glob may match both files of a pair
    for item in expand(data.path, base_dir):
        for day in resolve(item):
            if day.message.name in pieces:
                continue
            if day.ticker is None:
                raise DataFormatError(
                    f"{day.message.name}: expected a file name that gives the symbol, got none; name LOBSTER files "
                    "TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv",
                    path=day.message.name,
                )
            source = {
                "kind": "lobster",
                "path": str(item),
                "message": day.message.name,
                "levels": data.levels,
                "crossed": data.crossed,
            }
            pieces[day.message.name] = Piece(day.ticker, str(day.date), source)
    return one_per_symbol_day(list(pieces.values()), lambda p: p.source["message"])


# ------------------------------------------------------------------------------------------------------- load


def load_piece(piece: Piece, features: str | list[str], *, spread: bool) -> PieceData:
    """Load one piece's rows and compute its causal features, traded price and (with ``spread``) half spread.

    Raises
    ------
    DataFormatError
        When a file of the piece cannot be read or is malformed (the message names the file).
    FileNotFoundError
        When a file of the piece is gone.
    """
    frame, bayes = load_rows(piece)
    return derive(frame, features, spread=spread, bars=piece.source["kind"] == "bars", bayes_accuracy=bayes)


def load_rows(piece: Piece) -> tuple[pd.DataFrame, float | None]:
    """One piece's rows as loaded (no features), and the Bayes-optimal accuracy of a synthetic piece (else None)."""
    kind = piece.source["kind"]
    if kind == "synthetic":
        return _load_synthetic(piece.source)
    if kind == "lobster":
        return _load_lobster(piece.source), None
    from signalbench.data._bars_pieces import load_bars_piece

    return load_bars_piece(piece), None


def derive(
    frame: pd.DataFrame,
    features: str | list[str] | None,
    *,
    spread: bool,
    bars: bool,
    bayes_accuracy: float | None = None,
) -> PieceData:
    """Features, traded price and half spread of loaded rows (the recipe of ``experiment.inputs.load_inputs``).

    ``features=None`` computes none (an empty frame on the rows' index).
    """
    from signalbench.data.features import compute_features, half_spread_bps, mid_price

    if bars:
        price = pd.Series(frame["close"].to_numpy(dtype=np.float64), index=frame.index, name="close")
    else:
        price = pd.Series(mid_price(frame), index=frame.index, name="mid")
    half = np.asarray(half_spread_bps(frame), dtype=np.float64) if spread else None
    made = pd.DataFrame(index=frame.index) if features is None else compute_features(frame, features)
    return PieceData(frame, made, price, half, bayes_accuracy)


def _load_synthetic(source: Mapping[str, Any]) -> tuple[pd.DataFrame, float]:
    from signalbench.data.synthetic import synthetic_ticks

    args = {k: v for k, v in source.items() if k not in ("kind", "n")}
    ticks = synthetic_ticks(source["n"], **args)
    return ticks.data, float(ticks.bayes_accuracy)


def _load_lobster(source: Mapping[str, Any]) -> pd.DataFrame:
    from signalbench.data._lobster_files import resolve
    from signalbench.data.lobster import load_days

    days = [d for d in resolve(source["path"]) if d.message.name == source["message"]]
    if not days:
        raise DataFormatError(
            f"{source['message']}: expected this LOBSTER file in {source['path']}, got none (moved or renamed since "
            "the pieces were found?)",
            path=source["message"],
        )
    return load_days(days, levels=source["levels"], crossed=source["crossed"])
