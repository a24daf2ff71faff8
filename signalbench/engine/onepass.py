"""The engine's one pass per column: simulate and accumulate every statistic while the outputs are written.

:func:`one_pass_nb` walks each column once, ``prange`` over columns, and computes, bar by bar, the executed
exposure, gross return, cost, net return, equity and drawdown (the conventions of
:mod:`signalbench.engine.kernels`), writing each series only when its output array is given (an array with 0 rows
is not written: the statistics-only path of :func:`signalbench.backtest` gives none). Alongside, it accumulates
everything ``BacktestResult.stats`` is built from, so the data are read once:

- the rows of :data:`signalbench.engine.kernels.COLUMN_STATS` (the standard deviation from Welford's update,
  exactly 0 when every return is equal, as the two-pass kernel gives);
- the trading statistics :data:`TRADE_STATS`;
- the round-trip accumulators of :mod:`signalbench.engine.trades` (the same step as its kernels);
- the mean and population central moments m2, m3, m4 the deflated Sharpe needs (Pebay's one-pass update).

The rows of the accumulator array are :data:`ACC_ROWS`; :data:`ACC` names their slices.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from signalbench.engine.kernels import COLUMN_STATS, flex
from signalbench.engine.trades import N_TRIP, add_trade_nb, trip_step_nb

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


@njit(cache=True, parallel=True)
def one_pass_nb(
    price, position, fee, half_spread, slippage, delay, close_at_end, compound, outs, acc
):  # pragma: no cover - compiled
    """Simulate every column and fill ``acc`` (ACC_ROWS, m); write the series into ``outs`` when given.

    ``price`` is (n, 1) or (n, m), ``position`` (n, 1) or (n, m); costs are flexibly shaped (see
    :func:`signalbench.engine.kernels.flex`). ``outs`` is a tuple of six arrays, returns, gross returns, costs,
    exposure, equity and drawdown, each (n, m) Fortran-ordered to be written or (0, m) to be skipped.
    """
    for jj in prange(acc.shape[1]):
        j = np.int64(jj)  # the prange index is unsigned: unifying it with 0 would give a float
        acc[:, j] = _column_nb(price, position, fee, half_spread, slippage, delay, close_at_end, compound, j, outs)


@njit(cache=True)
def _column_nb(price, position, fee, half_spread, slippage, delay, close_at_end, compound, j, outs):
    """One column's pass; returns its ACC_ROWS accumulators (see the module docstring)."""
    write = outs[0].shape[0] > 0
    n = price.shape[0]
    trips = np.zeros(N_TRIP)
    sums = (0.0, 0.0, 0.0, 0.0)  # sum r, sum min(r, 0)^2, gross profit, gross loss
    trade = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # TRADE_STATS (exposure_time as a count of bars)
    moments = (0.0, 0.0, 0.0, 0.0)  # M2, M3, M4 around the running mean, and 1 / t
    curve = (1.0, 1.0, 0.0, 1.0, 0.0)  # compounded equity, its peak and max drawdown; additive peak and max drawdown
    prev_e = 0.0
    prev_p = flex(price, 0, j)
    lo, hi = np.inf, -np.inf
    net, start, streak = 0.0, 0, 0
    for t in range(n):
        p = flex(price, t, j)
        e = flex(position, t - delay, j) if t >= delay and not (close_at_end and t == n - 1) else 0.0
        g = prev_e * (p / prev_p - 1.0) if t > 0 else 0.0
        c = abs(e - prev_e) * (flex(fee, t, j) + flex(half_spread, t, j) + flex(slippage, t, j)) / 1e4
        r = g - c
        moments = _moments_step_nb(moments, sums[0], t, r)
        sums = _returns_step_nb(sums, r)
        curve = _curve_step_nb(curve, r, sums[0])
        if write:
            _write_nb(outs, t, j, r, g, c, e, curve, sums[0], compound)
        lo, hi = min(lo, r), max(hi, r)
        trade = _trade_step_nb(trade, prev_e, e, g, c, r, t)
        net, start, streak = trip_step_nb(trips, prev_e, e, r, c, t, net, start, streak)
        prev_e = e
        prev_p = p
    if prev_e != 0.0:
        add_trade_nb(trips, net, n - 1 - start, streak)
    return _finish_nb(n, sums, trade, trips, moments, curve, lo == hi)


@njit(cache=True)
def _write_nb(outs, t, j, r, g, c, e, curve, cum, compound):
    """Write bar ``t`` of column ``j`` into the six output series."""
    eq = curve[0] if compound else 1.0 + cum
    peak = curve[1] if compound else curve[3]
    outs[0][t, j] = r
    outs[1][t, j] = g
    outs[2][t, j] = c
    outs[3][t, j] = e
    outs[4][t, j] = eq
    outs[5][t, j] = eq / peak - 1.0


@njit(cache=True)
def _returns_step_nb(sums, r):
    """Add one net return to its sum, its downside squares, the gross profit and the gross loss."""
    total, down2, gp, gl = sums
    if r < 0.0:
        return total + r, down2 + r * r, gp, gl - r
    if r > 0.0:
        return total + r, down2, gp + r, gl
    return total + r, down2, gp, gl


@njit(cache=True)
def _curve_step_nb(curve, r, cum):
    """Both equity curves after return ``r`` (``cum`` the sum so far): equity, peaks and max drawdowns.

    A drawdown is divided out only where it may be a new minimum (a multiplication tells), so the pass pays
    one division per bar for the drawdowns instead of two; the minimum is the exact ``equity / peak - 1``.
    """
    eq, peak, mdd, peak_a, mdd_a = curve
    eq = eq * (1.0 + r)
    peak = max(peak, eq)
    if eq < peak * (1.0 + mdd) * (1.0 + 1e-12):
        mdd = min(mdd, eq / peak - 1.0)
    eq_a = 1.0 + cum
    peak_a = max(peak_a, eq_a)
    if eq_a < peak_a * (1.0 + mdd_a) * (1.0 + 1e-12):
        mdd_a = min(mdd_a, eq_a / peak_a - 1.0)
    return eq, peak, mdd, peak_a, mdd_a


@njit(cache=True)
def _trade_step_nb(trade, prev_e, e, g, c, r, t):
    """Add one bar to the sums of TRADE_STATS (exposure_time as the count of bars in the market)."""
    n_trades, turnover, in_mkt, cost, gross, hits, held = trade
    if e != prev_e:
        n_trades += 1.0
        turnover += abs(e - prev_e)
    if e != 0.0:
        in_mkt += 1.0
    if t > 0 and prev_e != 0.0:
        held += 1.0
        if r > 0.0:
            hits += 1.0
    return n_trades, turnover, in_mkt, cost + c, gross + g, hits, held


@njit(cache=True)
def _moments_step_nb(moments, total, t, x):
    """Pebay's one-pass update of M2, M3, M4 with the ``t + 1``-th value ``x`` (``total``: sum of the first t).

    The mean before the update is ``total / t`` (``total`` times the carried ``1 / t``), so no chain runs through
    a division; the fourth element carries ``1 / (t + 1)`` to the next bar.
    """
    m2, m3, m4, inv_prev = moments
    n1 = float(t)
    n = n1 + 1.0
    inv = 1.0 / n
    delta = x - total * inv_prev
    dn = delta * inv
    dn2 = dn * dn
    term1 = delta * dn * n1
    m4 = m4 + term1 * dn2 * (n * n - 3.0 * n + 3.0) + 6.0 * dn2 * m2 - 4.0 * dn * m3
    m3 = m3 + term1 * dn * (n - 2.0) - 3.0 * dn * m2
    return m2 + term1, m3, m4, inv


@njit(cache=True)
def _finish_nb(n, sums, trade, trips, moments, curve, flat):
    """The ACC_ROWS accumulators of one column from its running sums (NaN where a figure has no data).

    ``flat``: every return was equal, so the deviation and the central moments are exactly 0.
    """
    total, down2, gp, gl = sums
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
        out[3] = 0.0 if flat else np.sqrt(moments[0] / (n - 1))
    out[7] = curve[2]
    out[8] = curve[4]
    out[_NC + 2] = trade[2] / n
    base = _NC + _NT + N_TRIP
    out[base] = total / n
    for i in range(3):
        out[base + 1 + i] = 0.0 if flat else moments[i] / n
    return out
