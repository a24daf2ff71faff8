"""Numba kernels of the backtest engine: NumPy in, NumPy out, no pandas.

The simulation itself, with every statistic of ``BacktestResult.stats`` accumulated in the same pass, is
:func:`signalbench.engine.onepass.one_pass_nb`; this module holds the conventions, the flexible indexing and the
statistics of a given returns matrix (the public statistics functions, the event clock, the deflated Sharpe).

Every array is 2-D with time on axis 0 and one column per strategy. Outputs are allocated by the caller in
Fortran (column-major) order so that each column is contiguous in time; the kernels loop over columns in
parallel (``prange``) and over time inside one column.

Flexible indexing (after vectorbt's ``flex_select_auto_nb``): a cost array has shape ``(1, 1)`` (scalar),
``(1, m)`` (per column), ``(n, 1)`` (per row) or ``(n, m)`` (per cell). The kernels index into the shape they
were given instead of broadcasting copies; :func:`flex` does the indexing. Prices may be ``(n, 1)`` (one price
series shared by all columns) or ``(n, m)``.

The conventions (``docs/architecture.md``), for column j, with per-unit cost
``k[t] = (fee + half_spread[t] + slippage) / 1e4``:

- executed exposure ``e[t] = position[t - delay]`` for ``t >= delay`` else 0; ``e[-1] = 0``; with
  ``close_at_end`` the last bar's exposure is forced to 0 (the position is closed at the last price);
- gross return ``g[0] = 0``, ``g[t] = e[t-1] * (price[t] / price[t-1] - 1)``;
- cost ``c[t] = |e[t] - e[t-1]| * k[t]``;  net return ``r[t] = g[t] - c[t]``;
- equity: compound ``prod(1 + r[:t+1])``, additive ``1 + sum(r[:t+1])``;
- drawdown ``equity[t] / peak[t] - 1`` where ``peak[t] = max(1, equity[0..t])``: the starting capital of 1 is
  the first peak, so a loss on the very first bar is a drawdown (as in empyrical's ``drawdown_series``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def flex(a, t, j):
    """Element ``(t, j)`` of a flexibly shaped 2-D array (axes of length 1 are broadcast)."""
    return a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0]


# Rows of the array returned by column_stats_nb, in order.
COLUMN_STATS = (
    "n_obs",  # number of non-NaN returns
    "n_periods",  # number of returns including NaN (time that passed)
    "mean",  # mean of non-NaN returns
    "std",  # sample standard deviation (ddof=1) of non-NaN returns; 0 when all are equal
    "downside",  # sqrt(mean(min(r, 0)^2)) over non-NaN returns
    "compound_total",  # prod(1 + r) - 1, NaN counted as 0
    "additive_total",  # sum(r), NaN counted as 0
    "max_drawdown",  # min over t of equity/peak - 1 of the compounded series (peak starts at 1)
    "max_drawdown_additive",  # the same for the additive equity 1 + cumsum(r)
    "gross_profit",  # sum of positive returns
    "gross_loss",  # -sum of negative returns (>= 0)
)


@njit(cache=True)
def _column_stats_1d_nb(r, out):
    """:data:`COLUMN_STATS` of one column of returns, written into ``out`` (NaN-aware; see column_stats_nb)."""
    cnt = 0
    s = 0.0
    down2 = 0.0
    eq = 1.0
    peak = 1.0
    mdd = 0.0
    cum = 0.0
    peak_a = 1.0
    mdd_a = 0.0
    gp = 0.0
    gl = 0.0
    lo = np.inf
    hi = -np.inf
    for t in range(r.shape[0]):
        v = r[t]
        if not np.isnan(v):
            cnt += 1
            s += v
            if v < 0.0:
                down2 += v * v
                gl -= v
            elif v > 0.0:
                gp += v
            lo = min(lo, v)
            hi = max(hi, v)
            eq *= 1.0 + v
            cum += v
        peak = max(peak, eq)
        mdd = min(mdd, eq / peak - 1.0)
        peak_a = max(peak_a, 1.0 + cum)
        mdd_a = min(mdd_a, (1.0 + cum) / peak_a - 1.0)
    out[0] = cnt
    out[1] = r.shape[0]
    out[5] = eq - 1.0
    out[6] = cum
    out[9] = gp
    out[10] = gl
    if r.shape[0] > 0:
        out[7] = mdd
        out[8] = mdd_a
    if cnt > 0:
        out[2] = s / cnt
        out[4] = np.sqrt(down2 / cnt)
        if cnt > 1:
            out[3] = 0.0 if lo == hi else _std_1d_nb(r, s / cnt, cnt)


@njit(cache=True)
def _std_1d_nb(r, mean, cnt):
    """Sample standard deviation (``ddof=1``) of the non-NaN values of ``r`` around ``mean``."""
    ss = 0.0
    for t in range(r.shape[0]):
        v = r[t]
        if not np.isnan(v):
            ss += (v - mean) * (v - mean)
    return np.sqrt(ss / (cnt - 1))


@njit(cache=True, parallel=True)
def column_stats_nb(returns):
    """Per-column summary statistics of a returns matrix (NaN-aware), one pass for moments plus one for std.

    NaN returns are skipped in the moments (mean, std, downside) and count as a zero return (flat) in the
    compounded and additive totals and the drawdowns, exactly as empyrical does. Returns an array of shape
    ``(len(COLUMN_STATS), m)``.
    """
    out = np.full((len(COLUMN_STATS), returns.shape[1]), np.nan)
    for jj in prange(returns.shape[1]):
        _column_stats_1d_nb(returns[:, np.int64(jj)], out[:, np.int64(jj)])
    return out


@njit(cache=True)
def _central_moments_1d_nb(x, out):
    """Mean and population central moments m2, m3, m4 of one finite column, written into ``out``."""
    n = x.shape[0]
    if n == 0:
        return
    mean = x.sum() / n
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    if x.min() != x.max():  # constant columns give exactly 0 for m2
        for t in range(n):
            d = x[t] - mean
            d2 = d * d
            s2 += d2
            s3 += d2 * d
            s4 += d2 * d2
    out[0] = mean
    out[1] = s2 / n
    out[2] = s3 / n
    out[3] = s4 / n


@njit(cache=True, parallel=True)
def central_moments_nb(x):
    """Per column of a finite (n, m) array: mean and the population central moments m2, m3, m4.

    Two passes per column (the mean, then the centred powers), so constant columns give exactly 0 for m2.
    Returns an array of shape (4, m): rows mean, m2, m3, m4.
    """
    out = np.full((4, x.shape[1]), np.nan)
    for jj in prange(x.shape[1]):
        _central_moments_1d_nb(x[:, np.int64(jj)], out[:, np.int64(jj)])
    return out
