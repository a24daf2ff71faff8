"""Order-book features of a frame in the LOBSTER column format: mid, spreads, micro-price, depth and order flow.

Columns ``ask_price_i, ask_size_i, bid_price_i, bid_size_i`` (dollars, shares; NaN for an empty level), as
:func:`signalbench.data.load_lobster` and :func:`signalbench.data.synthetic_ticks` return them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from signalbench._validation import expected
from signalbench.data.features._frame import book_levels, column, runs
from signalbench.data.features._frame import window as check_window
from signalbench.data.features.kernels import ofi_nb

__all__ = [
    "book_levels",
    "depth_imbalance",
    "half_spread_bps",
    "microprice",
    "microprice_deviation_bps",
    "mid_price",
    "order_flow_imbalance",
    "order_flow_imbalance_total",
    "spread",
    "spread_bps",
]


def _best(df, what):
    return column(df, "ask_price_1", what), column(df, "bid_price_1", what)


def mid_price(df: pd.DataFrame) -> np.ndarray:
    """Mid price ``(ask_price_1 + bid_price_1) / 2``; NaN when either side is empty.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64, dollars.
    """
    ask, bid = _best(df, "mid_price")
    return (ask + bid) / 2.0


def spread(df: pd.DataFrame) -> np.ndarray:
    """Quoted spread ``ask_price_1 - bid_price_1`` in dollars; NaN when either side is empty.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    ask, bid = _best(df, "spread")
    return ask - bid


def spread_bps(df: pd.DataFrame) -> np.ndarray:
    """Relative spread ``(ask_price_1 - bid_price_1) / mid * 1e4`` in basis points.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64; NaN when either side is empty.
    """
    ask, bid = _best(df, "spread_bps")
    return (ask - bid) / ((ask + bid) / 2.0) * 1e4


def half_spread_bps(book: pd.DataFrame) -> np.ndarray:
    """The quoted half spread of each row in basis points of the mid: ``(ask_price_1 - bid_price_1) / 2 / mid * 1e4``.

    What a market order pays per unit traded against the mid, at the quotes of its row: pass it as
    ``backtest(..., half_spread_bps=half_spread_bps(book))`` to charge every trade the book's own spread.

    Parameters
    ----------
    book : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64, ``spread_bps(book) / 2``; NaN when either side is empty (<= 0 only on a crossed or locked book,
        which :func:`signalbench.data.load_lobster` refuses unless asked to keep it).
    """
    ask, bid = _best(book, "half_spread_bps")
    return (ask - bid) / (ask + bid) * 1e4


def microprice(df: pd.DataFrame) -> np.ndarray:
    """Size-weighted mid ``(ask_price_1 * bid_size_1 + bid_price_1 * ask_size_1) / (bid_size_1 + ask_size_1)``.

    The price leans towards the side with the smaller queue (the "weighted mid" of Stoikov's micro-price paper).
    NaN when a side is empty or both sizes are 0.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64, dollars.
    """
    ask, bid = _best(df, "microprice")
    qa = column(df, "ask_size_1", "microprice")
    qb = column(df, "bid_size_1", "microprice")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (ask * qb + bid * qa) / (qa + qb)
    out[~np.isfinite(out)] = np.nan
    return out


def microprice_deviation_bps(df: pd.DataFrame) -> np.ndarray:
    """Micro-price minus mid, relative to the mid, in basis points: ``(microprice - mid) / mid * 1e4``.

    Equals ``spread / 2 * depth_imbalance(level=1) / mid * 1e4``: positive when the bid queue is the larger.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    mid = mid_price(df)
    return (microprice(df) - mid) / mid * 1e4


def depth_imbalance(df: pd.DataFrame, level: int = 1) -> np.ndarray:
    """Depth imbalance at one level: ``(bid_size_i - ask_size_i) / (bid_size_i + ask_size_i)`` in [-1, 1].

    An empty level counts as size 0; 0 (no imbalance) when both sides of the level are empty, so a thin book
    does not put NaNs into the middle of a series (NaN only for a missing size on a non-empty level).

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.
    level : int, default 1
        Book level ``i`` (1 = best).

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    bp, qb, ap, qa = _level(df, check_window(level, "level"), "depth_imbalance")
    qb = np.where(np.isfinite(bp), qb, 0.0)
    qa = np.where(np.isfinite(ap), qa, 0.0)
    total = qa + qb
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (qb - qa) / total, np.where(np.isfinite(total), 0.0, np.nan))


def _level(df, level, what):
    """Bid price, bid size, ask price, ask size of one level."""
    return tuple(column(df, f"{side}_{level}", what) for side in ("bid_price", "bid_size", "ask_price", "ask_size"))


def _ofi_inputs(df, level, what):
    """One level's arrays for :func:`ofi_nb`: an empty level is a bid at -inf (ask at +inf) with size 0."""
    bp, bq, ap, aq = _level(df, level, what)
    bid_empty = ~np.isfinite(bp)
    ask_empty = ~np.isfinite(ap)
    bp = np.where(bid_empty, -np.inf, bp)
    ap = np.where(ask_empty, np.inf, ap)
    bq = np.where(bid_empty | ~np.isfinite(bq), 0.0, bq)
    aq = np.where(ask_empty | ~np.isfinite(aq), 0.0, aq)
    return bp, bq, ap, aq


def order_flow_imbalance(df: pd.DataFrame, *, level: int = 1, groups=None) -> np.ndarray:
    """Order-flow imbalance of one book update at one level (Cont, Kukanov and Stoikov 2014, eq. 2).

    With bid ``B``, bid size ``q^B``, ask ``A`` and ask size ``q^A`` at the level::

        e[t] = 1{B[t] >= B[t-1]} q^B[t] - 1{B[t] <= B[t-1]} q^B[t-1]
             - 1{A[t] <= A[t-1]} q^A[t] + 1{A[t] >= A[t-1]} q^A[t-1]

    in shares: positive for buying pressure (bid queue growing or bid improving, ask queue shrinking or ask
    retreating). An empty level is a bid at -inf (ask at +inf) with size 0. The first row of each group is NaN.
    Sum it over a window with :func:`rolling_sum` for the OFI of an interval.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.
    level : int, default 1
        Book level.
    groups : array-like, optional
        Group labels; no difference is taken across a group boundary.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    inputs = _ofi_inputs(df, check_window(level, "level"), "order_flow_imbalance")
    return ofi_nb(*inputs, runs(groups, len(df)))


def order_flow_imbalance_total(df: pd.DataFrame, *, levels: int | None = None, groups=None) -> np.ndarray:
    """Order-flow imbalance summed over the first ``levels`` levels: ``sum_i e_i[t]`` (multi-level OFI).

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.
    levels : int, optional
        Number of levels to sum (default: all levels present, see :func:`book_levels`).
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64; NaN on the first row of each group.
    """
    present = book_levels(df)
    n_levels = present if levels is None else check_window(levels, "levels")
    if n_levels < 1 or n_levels > present:
        raise ValueError(expected("levels", f"a number of levels in [1, {present}] (the levels of df)", levels))
    gid = runs(groups, len(df))
    total = np.zeros(len(df))
    for i in range(1, n_levels + 1):
        total += ofi_nb(*_ofi_inputs(df, i, "order_flow_imbalance_total"), gid)
    return total
