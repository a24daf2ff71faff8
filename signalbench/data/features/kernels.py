"""Numba kernels of the causal features: 1-D float64 in, 1-D float64 out, one pass over the rows.

Every kernel takes ``gid``, a run id per row (:func:`signalbench.data._inputs.group_ids`): its state is reset where
a new run (a day) starts and carried from row to row inside it, so nothing reaches from one day into the next. The
body of the loop is the update of that state by one row, which is what an online (one event at a time) version of
the feature repeats.

Non-finite inputs are missing values: a window holding one gives NaN; exponential averages skip them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["ewm_nb", "lag_nb", "ofi_nb", "rolling_sum_nb", "rolling_var_nb", "rsi_nb"]


@njit(cache=True)
def _kahan_add(total, comp, value):
    # Compensated (Kahan) summation: returns the new total and compensation.
    y = value - comp
    new = total + y
    return new, (new - total) - y


@njit(cache=True)
def rolling_sum_nb(x, w, gid):
    """Trailing sum over ``w`` rows, NaN in warm-up and where the window holds a missing value."""
    out = np.full(x.shape[0], np.nan)
    total, comp, missing, start = 0.0, 0.0, 0, 0
    for t in range(x.shape[0]):
        if t == 0 or gid[t] != gid[t - 1]:  # a new run: fresh state
            total, comp, missing, start = 0.0, 0.0, 0, t
        if np.isfinite(x[t]):
            total, comp = _kahan_add(total, comp, x[t])
        else:
            missing += 1
        if t - start >= w:  # the row leaving the window
            if np.isfinite(x[t - w]):
                total, comp = _kahan_add(total, comp, -x[t - w])
            else:
                missing -= 1
        if t - start + 1 >= w and missing == 0:
            out[t] = total
    return out


@njit(cache=True)
def rolling_var_nb(x, w, gid, ddof):
    """Trailing variance over ``w`` rows with ``ddof``; an exact 0 for a constant window.

    Sums of ``x - K`` and ``(x - K)^2`` with a shift ``K`` re-anchored, and the sums recomputed exactly, every ``w``
    rows: O(n) overall and no drift.
    """
    out = np.full(x.shape[0], np.nan)
    s1, s2, anchor, missing, start = 0.0, 0.0, 0.0, 0, 0
    for t in range(x.shape[0]):
        if t == 0 or gid[t] != gid[t - 1]:
            start = t
        lo = max(start, t - w + 1)
        if (t - start) % w == 0:  # re-anchor on this row and recompute the window's sums exactly
            anchor = x[t] if np.isfinite(x[t]) else 0.0
            s1, s2, missing = 0.0, 0.0, 0
            for j in range(lo, t + 1):
                if np.isfinite(x[j]):
                    d = x[j] - anchor
                    s1 += d
                    s2 += d * d
                else:
                    missing += 1
        else:
            if np.isfinite(x[t]):
                d = x[t] - anchor
                s1 += d
                s2 += d * d
            else:
                missing += 1
            if t - w >= start:  # the row leaving the window
                if np.isfinite(x[t - w]):
                    d = x[t - w] - anchor
                    s1 -= d
                    s2 -= d * d
                else:
                    missing -= 1
        nobs = t - lo + 1 - missing
        if t - start + 1 >= w and missing == 0 and nobs > ddof:
            out[t] = max(s2 - s1 * s1 / nobs, 0.0) / (nobs - ddof)
    return out


@njit(cache=True)
def ewm_nb(x, alpha, min_periods, gid):
    """``e = alpha * x + (1 - alpha) * e`` seeded with the run's first finite value; missing values are skipped.

    As pandas' ``ewm(adjust=False, ignore_na=True, min_periods=min_periods)``: the state is carried over a missing
    value and reported there.
    """
    out = np.full(x.shape[0], np.nan)
    state, count = np.nan, 0
    for t in range(x.shape[0]):
        if t == 0 or gid[t] != gid[t - 1]:
            state, count = np.nan, 0
        if np.isfinite(x[t]):
            state = x[t] if count == 0 else alpha * x[t] + (1.0 - alpha) * state
            count += 1
        if count >= min_periods:
            out[t] = state
    return out


@njit(cache=True)
def rsi_nb(x, w, gid):
    """Wilder's RSI: exponential averages (``alpha = 1 / w``) of up and down moves, seeded with the first move."""
    out = np.full(x.shape[0], np.nan)
    alpha = 1.0 / w
    up, down, count = 0.0, 0.0, 0
    for t in range(x.shape[0]):
        if t == 0 or gid[t] != gid[t - 1]:
            up, down, count = 0.0, 0.0, 0
            continue  # no move into a run's first row
        d = x[t] - x[t - 1]
        if np.isfinite(d):
            u, m = max(d, 0.0), max(-d, 0.0)
            up = u if count == 0 else alpha * u + (1.0 - alpha) * up
            down = m if count == 0 else alpha * m + (1.0 - alpha) * down
            count += 1
        if count >= w:
            if down == 0.0:
                out[t] = 50.0 if up == 0.0 else 100.0
            else:
                out[t] = 100.0 - 100.0 / (1.0 + up / down)
    return out


@njit(cache=True)
def lag_nb(x, k, gid):
    """``x[t - k]`` within the run, NaN where ``t - k`` is before the run's first row."""
    out = np.full(x.shape[0], np.nan)
    start = 0
    for t in range(x.shape[0]):
        if t == 0 or gid[t] != gid[t - 1]:
            start = t
        if t - k >= start:
            out[t] = x[t - k]
    return out


@njit(cache=True)
def _ofi_step(bp0, bq0, ap0, aq0, bp1, bq1, ap1, aq1):
    # One level's order-flow imbalance from the book before (0) to the book after (1) one event.
    e = 0.0
    if bp1 >= bp0:
        e += bq1
    if bp1 <= bp0:
        e -= bq0
    if ap1 <= ap0:
        e -= aq1
    if ap1 >= ap0:
        e += aq0
    return e


@njit(cache=True)
def ofi_nb(bp, bq, ap, aq, gid):
    """Order-flow imbalance of one level (Cont, Kukanov and Stoikov 2014, eq. 2); NaN on each run's first row.

    Empty levels are given as bid price -inf, ask price +inf, size 0.
    """
    out = np.full(bp.shape[0], np.nan)
    for t in range(1, bp.shape[0]):
        if gid[t] == gid[t - 1]:
            out[t] = _ofi_step(bp[t - 1], bq[t - 1], ap[t - 1], aq[t - 1], bp[t], bq[t], ap[t], aq[t])
    return out
