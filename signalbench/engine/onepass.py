"""The engine's one pass per column: simulate and accumulate every statistic while the outputs are written.

:func:`one_pass_nb` walks each column once, ``prange`` over columns, in tiles of 256 bars that stay in L1
(:func:`_column_nb`), and computes the executed exposure, gross return, cost, net return, equity and drawdown
(the conventions of :mod:`signalbench.engine.kernels`), writing each series only when its output array is given
(an array with 0 rows is not written: the statistics-only path of :func:`signalbench.backtest` gives none).
Alongside, it accumulates everything ``BacktestResult.stats`` is built from, so the data are read once:

- the rows of :data:`signalbench.engine.kernels.COLUMN_STATS` (the standard deviation from the central moments
  below, exactly 0 when every return is equal, as the two-pass kernel gives);
- the trading statistics :data:`TRADE_STATS`;
- the round-trip accumulators of :mod:`signalbench.engine.trades` (the same tiled pass as its
  :func:`signalbench.engine.trades.round_trip_stats_nb`);
- the mean and population central moments m2, m3, m4 the deflated Sharpe needs: each tile's returns, in cache,
  have their moments computed in two passes and merged into the running ones with Pebay's pairwise formulas (as
  accurate as two passes over the column, without a second read);
- when the probability of backtest overfitting is asked for, the mean, sum of squared deviations (Welford's
  update), lowest and highest return of each of its ``S`` contiguous blocks (:data:`PBO_BLOCK`), which is all
  :func:`signalbench.engine.selection.pbo_from_blocks` needs: a sweep of any width gets its PBO with no (n, m)
  array.

The rows of the accumulator array are :data:`ACC_ROWS`; :data:`ACC` names their slices.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from signalbench.engine.kernels import COLUMN_STATS, flex
from signalbench.engine.trades import N_EVENT, N_TRIP, TRIP_TILE, add_trade_nb, trip_events_nb, trips_run_nb

#: Trading statistics accumulated per column, in order.
TRADE_STATS = (
    "n_trades",  # bars where the executed exposure changed (including the first entry and a final close)
    "turnover",  # sum |e[t] - e[t-1]|, in units of equity (notional)
    "exposure_time",  # fraction of bars with e[t] != 0
    "cost_paid",  # sum c[t]
    "gross_total",  # sum g[t]
    "hits",  # bars with a held exposure (e[t-1] != 0) and r[t] > 0
    "held_bars",  # bars with a held exposure (e[t-1] != 0)
)

#: Mean and population central moments of the returns (for the deflated Sharpe), in order.
MOMENTS = ("mean", "m2", "m3", "m4")

_NC = len(COLUMN_STATS)
_NT = len(TRADE_STATS)
#: Slices of the accumulator array: column statistics, trading statistics, round trips, moments.
ACC = {
    "column": slice(0, _NC),
    "trade": slice(_NC, _NC + _NT),
    "trips": slice(_NC + _NT, _NC + _NT + N_TRIP),
    "moments": slice(_NC + _NT + N_TRIP, _NC + _NT + N_TRIP + len(MOMENTS)),
}
#: Number of accumulator rows per column.
ACC_ROWS = _NC + _NT + N_TRIP + len(MOMENTS)
#: What is kept per PBO block and column, in order (axis 0 of the ``blocks`` array).
PBO_BLOCK = ("mean", "m2", "low", "high")
# Bars per tile: the tile's returns are also a block of the moments (two exact passes in L1, then a merge).
_BLOCK = TRIP_TILE


@njit(cache=True, parallel=True, error_model="numpy")
def one_pass_nb(
    price, position, fee, half_spread, slippage, delay, close_at_end, compound, outs, acc, bounds, blocks
):  # pragma: no cover - compiled
    """Simulate every column and fill ``acc`` (ACC_ROWS, m); write the series into ``outs`` when given.

    ``price`` is (n, 1) or (n, m), ``position`` (n, 1) or (n, m); costs are flexibly shaped (see
    :func:`signalbench.engine.kernels.flex`). ``outs`` is a tuple of six arrays, returns, gross returns, costs,
    exposure, equity and drawdown, each (n, m) Fortran-ordered to be written or (0, m) to be skipped.
    ``bounds`` (S + 1,) int64 are the first rows of the PBO blocks and ``n`` (length 0: no blocks); ``blocks``
    (4, S, m) receives each block's :data:`PBO_BLOCK` values.
    """
    for jj in prange(acc.shape[1]):
        j = np.int64(jj)  # the prange index is unsigned: unifying it with 0 would give a float
        acc[:, j] = _column_nb(
            price, position, fee, half_spread, slippage, delay, close_at_end, compound, j, outs, bounds, blocks
        )


@njit(cache=True, error_model="numpy")
def _column_nb(price, position, fee, half_spread, slippage, delay, close_at_end, compound, j, outs, bounds, blocks):
    """One column's pass; returns its ACC_ROWS accumulators (see the module docstring).

    The column goes by in tiles of :data:`_BLOCK` bars: the simulation fills the tile's exposure, per-unit cost,
    gross return, cost and net return (the rows of ``tile``, in L1) and writes the series; then each group of
    statistics walks the tile in a loop of its own. Every accumulator sees the same values in the same order as
    in one loop over the bars (identical numbers), but each loop keeps its few accumulators in registers.
    """
    write = outs[0].shape[0] > 0
    n = price.shape[0]
    p_col = price[:, j if price.shape[1] > 1 else 0]
    q_col = position[:, j if position.shape[1] > 1 else 0]
    per_row = fee.shape[0] > 1 or half_spread.shape[0] > 1 or slippage.shape[0] > 1
    tile = np.empty((5, _BLOCK))  # exposure, per-unit cost (bps), gross return, cost, net return
    events = np.empty((N_EVENT, _BLOCK))  # the round trips' (signalbench.engine.trades.TRIP_EVENTS)
    if not per_row:  # the same cost on every bar: filled once
        _unit_costs_nb(tile[1], fee, half_spread, slippage, 0, _BLOCK, j)
    n_blocks = bounds.shape[0] - 1
    pbo = (0, (0.0, 0.0, 0.0, np.inf, -np.inf))  # the current PBO block; its count, mean, M2, low, high
    trips = np.zeros(N_TRIP)
    sums = (0.0, 0.0, 0.0, 0.0, np.inf, -np.inf)  # sum r, sum min(r, 0)^2, gross profit, gross loss; low, high
    trade = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # TRADE_STATS (exposure_time as a count of bars)
    moments = (0.0, 0.0, 0.0, 0.0, 0.0)  # count, mean, M2, M3, M4 of the blocks merged so far
    curve = (1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0)  # compounded equity, peak, trough, max drawdown; additive; sum r
    prev_e, prev_p = 0.0, p_col[0]
    trip = (0.0, 0, 0)  # the open trade's net PnL and entry row, the win/loss streak
    for t0 in range(0, n, _BLOCK):
        k = min(_BLOCK, n - t0)
        _exposure_nb(tile[0], q_col, t0, k, delay, close_at_end and t0 + k == n)
        if per_row:
            _unit_costs_nb(tile[1], fee, half_spread, slippage, t0, k, j)
        before = prev_e
        prev_e, prev_p = _simulate_nb(tile, p_col, t0, k, prev_e, prev_p, outs, write, j)
        trade = _trade_tile_nb(trade, tile, t0, k, before)
        sums = _sums_tile_nb(sums, tile[4], k)
        curve = _curve_tile_nb(curve, tile[4], t0, k, outs, write, compound, j)
        if k == _BLOCK:  # the literal size: the same compiled sums as every full block before
            moments = _merge_moments_nb(moments, tile[4], _BLOCK)
        else:
            moments = _merge_moments_nb(moments, tile[4], k)
        trip_events_nb(events, tile[0], tile[3], tile[4], 0, k, before)
        trip = trips_run_nb(trips, events, tile[4], 0, k, t0, trip)
        if n_blocks > 0:
            pbo = _pbo_tile_nb(pbo, tile[4], t0, k, bounds, blocks, j)
    if prev_e != 0.0:
        add_trade_nb(trips, trip[0], n - 1 - trip[1], trip[2])
    return _finish_nb(n, sums, trade, trips, moments, curve, sums[4] == sums[5])


@njit(cache=True, error_model="numpy")
def _unit_costs_nb(out, fee, half_spread, slippage, t0, k, j):
    """``out[:k]``: fee + half spread + slippage (bps) of bars ``t0 .. t0 + k - 1`` of column ``j``."""
    for i in range(k):
        t = t0 + i
        out[i] = flex(fee, t, j) + flex(half_spread, t, j) + flex(slippage, t, j)


@njit(cache=True, error_model="numpy")
def _exposure_nb(out, q_col, t0, k, delay, close_last):
    """``out[:k]``: the executed exposure of bars ``t0 ..``, ``position[t - delay]`` (0 before ``delay``).

    ``close_last``: the tile ends on the last bar, which ``close_at_end`` makes flat.
    """
    first = min(max(delay - t0, 0), k)
    for i in range(first):
        out[i] = 0.0
    for i in range(first, k):
        out[i] = q_col[t0 + i - delay]
    if close_last:
        out[k - 1] = 0.0


@njit(cache=True, error_model="numpy")
def _simulate_nb(tile, p_col, t0, k, prev_e, prev_p, outs, write, j):
    """Gross return, cost and net return of a tile's bars (rows 2-4 of ``tile``); the series written when asked.

    ``g[0]`` needs no case of its own: ``prev_e`` is 0 there and ``prev_p`` the first price, so ``g`` is 0.
    """
    for i in range(k):
        p = p_col[t0 + i]
        e = tile[0, i]
        g = prev_e * (p / prev_p - 1.0)
        c = abs(e - prev_e) * tile[1, i] / 1e4
        r = g - c
        tile[2, i] = g
        tile[3, i] = c
        tile[4, i] = r
        if write:
            outs[0][t0 + i, j] = r
            outs[1][t0 + i, j] = g
            outs[2][t0 + i, j] = c
            outs[3][t0 + i, j] = e
        prev_e = e
        prev_p = p
    return prev_e, prev_p


@njit(cache=True, error_model="numpy")
def _trade_tile_nb(trade, tile, t0, k, prev_e):
    """TRADE_STATS over a tile (``prev_e``: the exposure before it)."""
    for i in range(k):
        e = tile[0, i]
        trade = _trade_step_nb(trade, prev_e, e, tile[2, i], tile[3, i], tile[4, i], t0 + i)
        prev_e = e
    return trade


@njit(cache=True, error_model="numpy")
def _sums_tile_nb(sums, r_tile, k):
    """The return sums of :func:`_returns_step_nb`, and the lowest and highest return, over a tile."""
    total, down2, gp, gl, lo, hi = sums
    for i in range(k):
        r = r_tile[i]
        total, down2, gp, gl = _returns_step_nb((total, down2, gp, gl), r)
        lo, hi = min(lo, r), max(hi, r)
    return total, down2, gp, gl, lo, hi


@njit(cache=True, error_model="numpy")
def _curve_tile_nb(curve, r_tile, t0, k, outs, write, compound, j):
    """Both equity curves over a tile (:func:`_curve_step_nb`); equity and drawdown written when asked."""
    eq, peak, trough, mdd, peak_a, trough_a, mdd_a, cum = curve
    state = (eq, peak, trough, mdd, peak_a, trough_a, mdd_a)
    for i in range(k):
        cum += r_tile[i]
        state = _curve_step_nb(state, r_tile[i], cum)
        if write:
            equity = state[0] if compound else 1.0 + cum
            top = state[1] if compound else state[4]
            outs[4][t0 + i, j] = equity
            outs[5][t0 + i, j] = equity / top - 1.0
    eq, peak, trough, mdd, peak_a, trough_a, mdd_a = state
    return eq, peak, trough, mdd, peak_a, trough_a, mdd_a, cum


@njit(cache=True, error_model="numpy")
def _pbo_tile_nb(pbo, r_tile, t0, k, bounds, blocks, j):
    """The PBO blocks' Welford step over a tile; a block that ends in it is stored in ``blocks[:, b, j]``."""
    b, state = pbo
    for i in range(k):
        state = _pbo_step_nb(state, r_tile[i])
        if t0 + i == bounds[b + 1] - 1:
            for q in range(4):
                blocks[q, b, j] = state[q + 1]
            b += 1
            state = (0.0, 0.0, 0.0, np.inf, -np.inf)
    return b, state


@njit(cache=True, inline="always")
def _returns_step_nb(sums, r):
    """Add one net return to its sum, its downside squares, the gross profit and the gross loss (no branch)."""
    total, down2, gp, gl = sums
    neg = min(r, 0.0)
    return total + r, down2 + neg * neg, gp + max(r, 0.0), gl - neg


@njit(cache=True, inline="always")
def _pbo_step_nb(state, r):
    """Add one return to a PBO block's count, mean and sum of squared deviations (Welford), low and high."""
    k, mean, m2, lo, hi = state
    k += 1.0
    d = r - mean
    mean += d / k
    return k, mean, m2 + d * (r - mean), min(lo, r), max(hi, r)


@njit(cache=True, inline="always")
def _curve_step_nb(curve, r, cum):
    """Both equity curves after return ``r`` (``cum``: the sum of returns so far): equity, peaks, troughs, drawdowns.

    ``equity / peak - 1`` is divided out only when a new peak closes a stretch, from the stretch's lowest equity
    (the peak is constant over it and division is monotone, so the minimum is exactly the per-bar one): no
    division and no unpredictable branch per bar.
    """
    eq, peak, trough, mdd, peak_a, trough_a, mdd_a = curve
    eq = eq * (1.0 + r)
    if eq > peak:
        mdd = min(mdd, trough / peak - 1.0)
        peak = trough = eq
    else:
        trough = min(trough, eq)
    eq_a = 1.0 + cum
    if eq_a > peak_a:
        mdd_a = min(mdd_a, trough_a / peak_a - 1.0)
        peak_a = trough_a = eq_a
    else:
        trough_a = min(trough_a, eq_a)
    return eq, peak, trough, mdd, peak_a, trough_a, mdd_a


@njit(cache=True, inline="always")
def _trade_step_nb(trade, prev_e, e, g, c, r, t):
    """Add one bar to the sums of TRADE_STATS (exposure_time as the count of bars in the market; no branch)."""
    n_trades, turnover, in_mkt, cost, gross, hits, held = trade
    holding = 1.0 if t > 0 and prev_e != 0.0 else 0.0
    return (
        n_trades + (1.0 if e != prev_e else 0.0),
        turnover + abs(e - prev_e),
        in_mkt + (1.0 if e != 0.0 else 0.0),
        cost + c,
        gross + g,
        hits + (holding if r > 0.0 else 0.0),
        held + holding,
    )


@njit(cache=True, fastmath=True)
def _block_moments_nb(buf, k):
    """Mean and central sums M2, M3, M4 of ``buf[:k]`` in two passes (the block is in L1; reordered sums vectorize)."""
    s = 0.0
    for i in range(k):
        s += buf[i]
    mean = s / k
    s2 = s3 = s4 = 0.0
    for i in range(k):
        d = buf[i] - mean
        d2 = d * d
        s2 += d2
        s3 += d2 * d
        s4 += d2 * d2
    return mean, s2, s3, s4


@njit(cache=True)
def _merge_moments_nb(a, buf, k):
    """Pebay's pairwise merge of the running (count, mean, M2, M3, M4) with the block ``buf[:k]``."""
    na, mean_a, m2a, m3a, m4a = a
    mean_b, m2b, m3b, m4b = _block_moments_nb(buf, k)
    nb = float(k)
    n = na + nb
    delta = mean_b - mean_a
    d2 = delta * delta
    m2 = m2a + m2b + d2 * na * nb / n
    m3 = m3a + m3b + d2 * delta * na * nb * (na - nb) / (n * n) + 3.0 * delta * (na * m2b - nb * m2a) / n
    m4 = (
        m4a
        + m4b
        + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
        + 6.0 * d2 * (na * na * m2b + nb * nb * m2a) / (n * n)
        + 4.0 * delta * (na * m3b - nb * m3a) / n
    )
    return n, mean_a + delta * nb / n, m2, m3, m4


@njit(cache=True)
def _finish_nb(n, sums, trade, trips, moments, curve, flat):
    """The ACC_ROWS accumulators of one column from its running sums (NaN where a figure has no data).

    ``flat``: every return was equal, so the deviation and the central moments are exactly 0.
    """
    total, down2, gp, gl = sums[0], sums[1], sums[2], sums[3]
    out = np.full(ACC_ROWS, np.nan)
    out[0] = n
    out[1] = n
    out[5] = curve[0] - 1.0
    out[6] = total
    out[9] = gp
    out[10] = gl
    for i in range(_NT):
        out[_NC + i] = trade[i]
    out[_NC + _NT : _NC + _NT + N_TRIP] = trips
    if n == 0:
        return out
    out[2] = total / n
    out[4] = np.sqrt(down2 / n)
    if n > 1:
        out[3] = 0.0 if flat else np.sqrt(moments[2] / (n - 1))
    out[7] = min(curve[3], curve[2] / curve[1] - 1.0)  # the last stretch
    out[8] = min(curve[6], curve[5] / curve[4] - 1.0)
    out[_NC + 2] = trade[2] / n
    base = _NC + _NT + N_TRIP
    out[base] = total / n
    for i in range(3):
        out[base + 1 + i] = 0.0 if flat else moments[2 + i] / n
    return out
