"""Backtests that execute on the real order book: a size in shares, the depth walked level by level, latency in time.

:func:`book_backtest` turns each column's target exposures into whole-share orders of ``size`` shares times the
exposure, executes them on the book (:mod:`signalbench.engine.book_kernels`: buys walk the ask levels, sells the
bid levels, at the exact volume-weighted price of the levels consumed, measured against the mid), and prices the
resulting *executed* exposure with :func:`signalbench.engine.backtest`, the per-cell cost of each trade entering
as its ``half_spread_bps`` (so one PnL kernel prices both cost models). The statistics' oracle rows are those of
the exact oracle under the same book costs (:mod:`signalbench.engine.book_oracle`), computed first and handed to
the backtest (:func:`signalbench.engine.backtest.priced`) in place of the linear-cost oracle it would otherwise
compute, so ``signal_efficiency`` stays a share of the best possible.

What it does not capture: the replayed book is not depleted by our own trades (consecutive orders can use the
same displayed liquidity again); hidden liquidity (LOBSTER's type-5 executions) means the visible book
overstates the cost; there is no queue position: every order takes liquidity, none rests in the book.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from signalbench._validation import choice, expected, integer, number
from signalbench.engine._inputs import align, as_2d, as_cost, as_price, check_options, check_positions, wrap_like
from signalbench.engine.backtest import BacktestResult, priced
from signalbench.engine.book_inputs import Book, as_book, execution_source
from signalbench.engine.book_kernels import POLICIES, cost_curve_nb, execute_nb
from signalbench.engine.book_oracle import book_oracles_nb

#: The statistics row a book backtest adds: per column, the rows whose trade found less depth than it needed.
SHORT_ROW = "rows_short_of_depth"


def book_backtest(
    price: Any,
    position: Any,
    book: Any,
    *,
    size: Any = None,
    notional: Any = None,
    unfilled: Literal["partial", "penalty", "raise"] = "partial",
    penalty_bps: float = 0.0,
    fee_bps: Any = 0.0,
    slippage_bps: Any = 0.0,
    delay: int | None = None,
    latency: Any = None,
    mode: Literal["compound", "additive"] = "compound",
    periods_per_year: float | None = None,
    close_at_end: bool = False,
    benchmarks: Any = None,
    n_trials: int | None = None,
) -> BacktestResult:
    """Backtest target exposures executed on the order book, at ``size`` shares per unit of exposure.

    Per column j and row t: the target holding is ``rint(size_j * position[s, j])`` whole shares, where s is the
    decision in force at t (``t - delay``, or the latest decision whose ``latency`` has elapsed by t); a change
    of holding buys on the ask side or sells on the bid side of row t's book, walking the levels; its cost
    against the mid, ``sum_i q_i |p_i - mid|`` over the levels consumed (integer ticks), plus ``fee_bps`` and
    ``slippage_bps``, is charged as in :func:`signalbench.engine.backtest` with ``e = holding / size``:
    ``c[t] = |e[t] - e[t-1]| * (fee + k[t] + slippage) / 1e4`` with ``k[t] = 1e4 * cost / (shares * mid)``.
    Everything else (gross returns on ``price``, equity, drawdown, statistics) is :func:`backtest`'s.

    Parameters
    ----------
    price : array-like, Series or DataFrame, shape (n,) or (n, m)
        What the gross returns are measured on; usually the book's mid (:attr:`Book.mid`).
    position : array-like, Series or DataFrame, shape (n,) or (n, m)
        Target exposures in [-1, 1], decided at row t from information up to t.
    book : pandas.DataFrame or Book
        ``load_lobster``'s frame (``ask_price_i, ask_size_i, bid_price_i, bid_size_i``), one row per price row;
        empty levels NaN (or size 0); every row a two-sided, uncrossed quote
        (:mod:`signalbench.engine.book_inputs`); or the :class:`~signalbench.engine.book_inputs.Book` that
        ``as_book`` made of it, to convert it once for several calls (as
        :func:`signalbench.engine.book_curve.book_capacity` does).
    size : int or sequence of int, optional
        Shares traded at exposure 1: one for all columns or one per column, each >= 1. Give ``size`` or
        ``notional``, not both.
    notional : float or sequence of float, optional
        The amount (in the price's currency) traded at exposure 1, one for all columns or one per column, each
        > 0: converted once to whole shares at the mid of the first row an order can execute on (``delay`` or
        ``latency`` after the first decision), ``size = rint(notional / mid)``, at least 1 share, then held for
        the whole run, so that the exact oracle's holdings stay whole shares in [-size, size]. The shares used are
        in ``params["size"]``.
    unfilled : {"partial", "penalty", "raise"}, default "partial"
        When an order needs more than the displayed depth: ``"partial"`` fills what is displayed and retries the
        rest on the following rows (towards the target then in force), so the executed exposure lags the
        target; ``"penalty"`` fills it all, the remainder at the last visible level plus ``penalty_bps`` of the
        mid; ``"raise"`` raises a ``ValueError`` naming the column and row.
    penalty_bps : float, default 0.0
        The penalty of ``"penalty"``, in basis points of the mid, per share beyond the displayed depth.
    fee_bps, slippage_bps : float or sequence of length m
        As in :func:`backtest`, per unit of exposure traded.
    delay : int, optional
        Latency in rows (default 0).
    latency : str or float, optional
        Latency in time: ``"250us"``, ``"1.5ms"``, ``"2s"`` or a number of microseconds; the book must have a
        DatetimeIndex. Not together with ``delay``.
    mode, periods_per_year, close_at_end, benchmarks, n_trials
        As in :func:`backtest`; ``close_at_end`` targets 0 on the last row (under ``"partial"`` the depth may
        leave part of the holding open).

    Returns
    -------
    BacktestResult
        ``exposure`` is the executed exposure; ``stats`` has :func:`backtest`'s rows with
        ``oracle_return_additive`` and ``signal_efficiency`` taken against the exact book oracle, plus
        ``rows_short_of_depth`` and ``cost_paid`` split into ``cost_spread``, ``cost_depth`` and ``cost_fees``;
        ``params`` records the book settings.

    Raises
    ------
    TypeError, ValueError
        As :func:`backtest` for prices, positions and costs; a book that is not a frame of those columns, does
        not line up with the prices, has sizes that are not whole shares or a crossed, locked or one-sided row;
        a ``size`` that is not a whole number >= 1; an unknown ``unfilled``; ``delay`` and ``latency``
        together, a malformed latency, or a latency without timestamps; with ``unfilled="raise"``, an order
        beyond the displayed depth.
    """
    p2, ptmpl = as_price(price)
    q2, qtmpl = as_2d(position, "position")
    template = align(ptmpl, qtmpl, p2.shape, q2.shape)
    check_positions(q2, template, 1.0)
    n, m = p2.shape[0], max(p2.shape[1], q2.shape[1])
    the_book = as_book(book, n, template.index)
    policy = POLICIES.index(choice(unfilled, "unfilled", POLICIES))
    penalty = number(penalty_bps, "penalty_bps", low=0.0)
    src, d = execution_source(n, delay, latency, the_book.times)
    if (size is None) == (notional is None):
        found = "both" if size is not None else "neither"
        raise TypeError(expected("size, notional", "exactly one (shares, or an amount at the mid)", found, raw=True))
    sizes = _sizes(size, m) if notional is None else _notional_sizes(notional, m, the_book, src)
    exposure, cost_bps, short, parts = _execute(q2, src, sizes, policy, penalty, bool(close_at_end), the_book, template)
    opts = check_options(0, mode, periods_per_year, False, 1.0, n_trials)
    first = int(np.argmax(src >= 0)) if (src >= 0).any() else n
    fs = _fee_plus_slippage(fee_bps, slippage_bps, n, m, template.index)
    oracle = book_oracle_totals(p2, the_book, sizes, fs, first, policy, penalty, bool(close_at_end))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = priced(  # backtest() with the book oracle's totals instead of the linear oracle's
            price,
            wrap_like(exposure, template),
            (fee_bps, wrap_like(cost_bps, template), slippage_bps),
            opts,
            benchmarks=benchmarks,
            oracle=oracle,
        )
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    result.stats = _book_rows(result.stats, oracle, short, parts, fs)
    result.params.update(
        cost_model="book",
        half_spread_bps="book",
        size=size if notional is None else sizes.tolist(),
        notional=notional,
        unfilled=unfilled,
        penalty_bps=penalty,
        delay=d,
        latency=latency,
        close_at_end=bool(close_at_end),
    )
    return result


def book_cost(
    book: Any, shares: int, *, unfilled: Literal["partial", "penalty", "raise"] = "partial", penalty_bps: float = 0.0
) -> pd.DataFrame:
    """The cost of one order of ``shares`` (> 0 buys on the ask side, < 0 sells on the bid side) at every row.

    The same walk of the levels as :func:`book_backtest`'s trades. Columns: ``bps`` (the cost against the mid,
    in basis points of the mid per share executed), ``filled`` (shares executed, signed) and ``short`` (the
    displayed depth was less than ``|shares|``). Under ``"raise"`` rows short of depth are reported, not raised.

    Raises
    ------
    TypeError, ValueError
        ``book`` as in :func:`book_backtest`; ``shares`` not a non-zero integer; an unknown ``unfilled``.
    """
    q = integer(shares, "shares")
    if q == 0:
        raise ValueError(expected("shares", "a non-zero number of shares (> 0 buys, < 0 sells)", shares))
    policy = POLICIES.index(choice(unfilled, "unfilled", POLICIES))
    penalty = number(penalty_bps, "penalty_bps", low=0.0)
    the_book = as_book(book, len(book) if isinstance(book, pd.DataFrame) else 0, None)
    n = the_book.ask_px.shape[0]
    bps, filled, short = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=bool)
    cost_curve_nb(
        q, policy, penalty, the_book.ask_px, the_book.ask_sz, the_book.bid_px, the_book.bid_sz, bps, filled, short
    )
    return pd.DataFrame({"bps": bps, "filled": filled, "short": short}, index=book.index)


def _sizes(size: Any, m: int) -> np.ndarray:
    """``size`` as (1,) or (m,) int64 whole shares >= 1."""
    what = "whole shares >= 1: an integer, or one per column"
    arr = np.asarray(size)
    if arr.dtype == bool or arr.dtype.kind not in "iuf" or arr.ndim > 1:
        raise TypeError(expected("size", what, size))
    flat = arr.reshape(-1)
    if flat.shape[0] not in (1, m) or arr.ndim == 1 and flat.shape[0] != m:
        raise ValueError(expected("size", f"{what} ({m} columns)", f"{flat.shape[0]} values", raw=True))
    bad = ~np.isfinite(flat) | (flat < 1) | (flat != np.round(flat))
    if bad.any():
        raise ValueError(expected("size", what, flat[int(np.argmax(bad))]))
    return flat.astype(np.int64)


def _notional_sizes(notional: Any, m: int, book: Book, src: np.ndarray) -> np.ndarray:
    """``notional`` as (1,) or (m,) int64 shares at the mid of the first row an order can execute on."""
    what = "an amount > 0: a number, or one per column"
    arr = np.asarray(notional)
    if arr.dtype == bool or arr.dtype.kind not in "iuf" or arr.ndim > 1:
        raise TypeError(expected("notional", what, notional))
    flat = arr.reshape(-1).astype(float)
    if flat.shape[0] not in (1, m) or arr.ndim == 1 and flat.shape[0] != m:
        raise ValueError(expected("notional", f"{what} ({m} columns)", f"{flat.shape[0]} values", raw=True))
    bad = ~np.isfinite(flat) | (flat <= 0)
    if bad.any():
        raise ValueError(expected("notional", what, float(flat[int(np.argmax(bad))])))
    if not (src >= 0).any():
        raise ValueError(expected("notional", "a row an order can execute on", "none (the latency covers every row)"))
    first = int(np.argmax(src >= 0))
    mid = float(book.mid[first])
    shares = np.rint(flat / mid)
    if (shares < 1).any():
        small = float(flat[int(np.argmax(shares < 1))])
        raise ValueError(
            expected(
                "notional",
                f"at least half a share's worth at the mid ({mid:g} at row {first})",
                small,
                hint="raise notional, or give size in shares",
            )
        )
    return shares.astype(np.int64)


def _execute(
    q2: np.ndarray, src: np.ndarray, sizes: np.ndarray, policy: int, penalty: float, close: bool, book: Book, template
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run :func:`execute_nb`; under ``"raise"`` the first column that ran short of depth is a ``ValueError``."""
    n, m = q2.shape[0], len(template.columns)
    exposure = np.empty((n, m), order="F")
    cost_bps = np.empty((n, m), order="F")
    short = np.zeros(m, dtype=np.int64)
    first_short = np.full(m, -1, dtype=np.int64)
    parts = np.zeros((2, m))
    execute_nb(
        q2,
        src,
        sizes,
        policy,
        penalty,
        close,
        book.ask_px,
        book.ask_sz,
        book.bid_px,
        book.bid_sz,
        exposure,
        cost_bps,
        short,
        first_short,
        parts,
    )
    if policy == POLICIES.index("raise") and (first_short >= 0).any():
        j = int(np.argmin(np.where(first_short >= 0, first_short, n)))
        t = int(first_short[j])
        label = template.labels(m)[j]
        raise ValueError(
            expected(
                "unfilled",
                "orders within the displayed depth (unfilled='raise')",
                f"an order of column {label!r} beyond the book's depth",
                at=f"row {t}" + (f" ({template.index[t]})" if template.index is not None else ""),
                raw=True,
                hint="lower size, or choose unfilled='partial' or 'penalty'",
            )
        )
    return exposure, cost_bps, short, parts


def _fee_plus_slippage(fee_bps: Any, slippage_bps: Any, n: int, m: int, index: pd.Index | None) -> np.ndarray:
    """(fee + slippage) / 1e4 per column, (m,)."""
    fee = as_cost(fee_bps, "fee_bps", n, m, False, index)
    slip = as_cost(slippage_bps, "slippage_bps", n, m, False, index)
    return np.broadcast_to((fee + slip)[0] / 1e4, (m,)).copy()


def book_oracle_totals(
    p2: np.ndarray, book: Book, sizes: np.ndarray, fs: np.ndarray, first: int, policy: int, penalty: float, close: bool
) -> np.ndarray:
    """The exact book oracle's total per column, computed once per distinct (price column, size, fee + slippage)."""
    m = fs.shape[0]
    keys = [(j if p2.shape[1] > 1 else 0, int(sizes[j if sizes.shape[0] > 1 else 0]), float(fs[j])) for j in range(m)]
    unique = sorted(set(keys))
    pcol = np.array([k[0] for k in unique], dtype=np.int64)
    svals = np.array([k[1] for k in unique], dtype=np.int64)
    fvals = np.array([k[2] for k in unique])
    totals = book_oracles_nb(
        p2, pcol, first, svals, fvals, policy, penalty, close, book.ask_px, book.ask_sz, book.bid_px, book.bid_sz
    )
    where = {k: i for i, k in enumerate(unique)}
    return np.array([totals[where[k]] for k in keys])


def _book_rows(stats: pd.DataFrame, oracle: np.ndarray, short: np.ndarray, parts: np.ndarray, fs: np.ndarray):
    """The statistics with the book oracle's rows, ``rows_short_of_depth`` and ``cost_paid`` in three parts.

    The parts: ``cost_spread`` (the best level's half spread on every share traded), ``cost_depth`` (the levels
    beyond it, and the penalty) and ``cost_fees`` (fees and slippage).
    """
    total = stats.loc["total_return_additive"].to_numpy(dtype=float)
    # the strategy's path is one the oracle may take: above it only by rounding of the two summations
    slack = 1e-9 * np.maximum(1.0, np.abs(oracle))
    if (total > oracle + slack).any():
        j = int(np.argmax(total - oracle))
        raise AssertionError(f"column {stats.columns[j]!r} beats the book oracle ({total[j]} > {oracle[j]})")
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = np.where(oracle > 0, np.minimum(total / oracle, 1.0), np.nan)
    stats.loc["oracle_return_additive"] = oracle
    stats.loc["signal_efficiency"] = efficiency
    turnover = stats.loc["turnover"].to_numpy(dtype=float)
    rows = {
        SHORT_ROW: short.astype(float),
        "cost_spread": parts[0],
        "cost_depth": parts[1] - parts[0],
        "cost_fees": turnover * fs,
    }
    return pd.concat([stats, pd.DataFrame(rows, index=stats.columns).T])
