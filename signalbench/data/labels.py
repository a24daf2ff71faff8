"""Training targets, which look into the future by design.

**Warning: look-ahead.**

Every function here reads rows *after* ``t`` to build the target of row ``t``. They exist to train and score
models, and must never be used as inputs (features live in :mod:`signalbench.data.features`, which is causal). A
model's prediction at ``t`` is compared with the label at ``t``.

Conventions:

- Inputs are 1-D array-likes in time order (a Series keeps its index in the output); outputs are float64 with NaN
  where the label cannot be known: rows whose horizon runs past the end of the data, or past the end of the row's
  group (pass ``groups``, e.g. the ``day`` column, so no label reaches into the next day). Missing inputs give NaN.
  A NaN label is never replaced by a guessed class; drop those rows when training.
- Classes: **0 = down, 1 = stationary, 2 = up**. A change that is zero (or within the threshold) is
  stationary, never down. "Zero" allows for float rounding: a relative change within ``TIE_RTOL = 1e-10`` counts
  as no change, because mids computed from different bid/ask pairs with the same true mid, such as
  ``(100.02 + 100.00) / 2`` and ``(100.04 + 99.98) / 2``, can differ in the last bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from signalbench.data.features import _as_float, _window, group_ids

__all__ = [
    "DOWN",
    "STATIONARY",
    "TIE_RTOL",
    "UP",
    "direction",
    "forward_log_return",
    "smoothed_direction",
    "spread_change",
]

DOWN = 0
STATIONARY = 1
UP = 2


@njit(cache=True)
def _group_end_nb(gid):
    # Last row of each row's group.
    n = gid.shape[0]
    end = np.empty(n, np.int64)
    last = n - 1
    for t in range(n - 1, -1, -1):
        if t < n - 1 and gid[t] != gid[t + 1]:
            last = t
        end[t] = last
    return end


@njit(cache=True)
def _forward_mean_nb(x, h, end):
    # mean(x[t+1 .. t+h]) when t + h <= end[t], else NaN.
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(n):
        if t + h > end[t]:
            continue
        s = 0.0
        for j in range(t + 1, t + h + 1):
            s += x[j]
        out[t] = s / h
    return out


def _prepare(x, name, horizon, groups):
    index = x.index if isinstance(x, pd.Series) else None
    a = _as_float(x, name)
    horizon = _window(horizon, "horizon")
    a = np.where(np.isfinite(a), a, np.nan)
    end = _group_end_nb(group_ids(groups, a.size))
    return a, horizon, end, index


def _future(a, h, end):
    """a[t + h] where t + h stays inside the group, else NaN."""
    n = a.size
    out = np.full(n, np.nan)
    t = np.arange(n)
    ok = t + h <= end
    out[ok] = a[t[ok] + h]
    return out


# Relative changes this small are float rounding of equal prices, not moves: a mid of (100.02 + 100.00) / 2 and one
# of (100.04 + 99.98) / 2 differ in the last bit. Far below any tick (1 tick of $0.01 at $100,000 is 1e-7).
TIE_RTOL = 1e-10


def _classify(change, threshold):
    out = np.full(change.shape, np.nan)
    ok = np.isfinite(change)
    c = change[ok]
    bound = threshold + TIE_RTOL
    out[ok] = np.where(c > bound, UP, np.where(c < -bound, DOWN, STATIONARY))
    return out


def _wrap(values, index, name):
    return values if index is None else pd.Series(values, index=index, name=name)


def _threshold(value, name):
    value = float(value)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def direction(mid, horizon: int = 1, *, threshold: float = 0.0, groups=None):
    """Direction of the mid over ``horizon`` rows.

    **Warning: looks ahead (a target, never a feature).**

    ``r[t] = mid[t + horizon] / mid[t] - 1``; class 2 (up) if ``r > threshold``, 0 (down) if ``r < -threshold``,
    else 1 (stationary). With the default threshold 0 an unchanged mid is stationary, never down (changes within
    float rounding, ``|r| <= TIE_RTOL``, count as unchanged).

    Parameters
    ----------
    mid : array-like or pandas.Series
        Mid prices (or any price) in time order.
    horizon : int, default 1
        Rows ahead.
    threshold : float, default 0.0
        Relative change (e.g. ``1e-4`` = 1 bp) below which a move counts as stationary.
    groups : array-like, optional
        Group labels (days); a row whose ``t + horizon`` lies in a later group gets NaN.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64 classes 0/1/2, NaN for the last ``horizon`` rows of each group and where a mid is missing; a Series
        (same index) when ``mid`` is one.
    """
    a, h, end, index = _prepare(mid, "mid", horizon, groups)
    thr = _threshold(threshold, "threshold")
    with np.errstate(divide="ignore", invalid="ignore"):
        change = _future(a, h, end) / a - 1.0
    return _wrap(_classify(change, thr), index, f"direction_{h}")


def smoothed_direction(mid, horizon: int = 10, *, alpha: float = 2e-5, groups=None):
    """FI-2010 smoothed label (Ntakaris et al. 2018).

    **Warning: looks ahead (a target, never a feature).**

    ``m+[t] = mean(mid[t+1 .. t+horizon])``, ``l[t] = (m+[t] - mid[t]) / mid[t]``; class 2 (up) if
    ``l > alpha``, 0 (down) if ``l < -alpha``, else 1 (stationary).

    Parameters
    ----------
    mid : array-like or pandas.Series
        Mid prices in time order.
    horizon : int, default 10
        Number of future mids averaged (FI-2010 uses 1, 2, 3, 5 and 10 events).
    alpha : float, default 2e-5
        Relative threshold of the stationary class (FI-2010 uses 0.002 on its normalized prices; DeepLOB 2e-5).
    groups : array-like, optional
        Group labels; a row whose averaging window reaches into a later group gets NaN.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64 classes 0/1/2, NaN for the last ``horizon`` rows of each group and where a mid is missing.
    """
    a, h, end, index = _prepare(mid, "mid", horizon, groups)
    thr = _threshold(alpha, "alpha")
    with np.errstate(divide="ignore", invalid="ignore"):
        change = _forward_mean_nb(a, h, end) / a - 1.0
    return _wrap(_classify(change, thr), index, f"smoothed_direction_{h}")


def forward_log_return(price, horizon: int = 1, *, groups=None):
    """Log return over the next ``horizon`` rows, ``log(price[t + horizon] / price[t])``.

    **Warning: looks ahead (a target, never a feature).**

    The regression target of seed 002 (which predicted the next price; its log return is the scale-free form).

    Parameters
    ----------
    price : array-like or pandas.Series
        Prices (> 0) in time order.
    horizon : int, default 1
        Rows ahead.
    groups : array-like, optional
        Group labels; NaN where ``t + horizon`` lies in a later group.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64; NaN for the last ``horizon`` rows of each group and for non-positive or missing prices.
    """
    a, h, end, index = _prepare(price, "price", horizon, groups)
    a = np.where(a > 0, a, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(_future(a, h, end) / a)
    return _wrap(out, index, f"forward_log_return_{h}")


def spread_change(spread, horizon: int = 1, *, relative: bool = False, groups=None):
    """Change of the quoted spread over the next ``horizon`` rows.

    **Warning: looks ahead (a target, never a feature).**

    ``spread[t + horizon] - spread[t]`` (dollars), or ``spread[t + horizon] / spread[t] - 1`` with
    ``relative=True``: the auxiliary target of seed 001's multi-task model. Pass the output of
    :func:`signalbench.data.features.spread` (or a ``spread`` column); :func:`direction` of the spread gives a
    widen/unchanged/narrow class if needed.

    Parameters
    ----------
    spread : array-like or pandas.Series
        Spreads in time order.
    horizon : int, default 1
        Rows ahead.
    relative : bool, default False
        Relative instead of absolute change.
    groups : array-like, optional
        Group labels; NaN where ``t + horizon`` lies in a later group.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64; NaN for the last ``horizon`` rows of each group and where a spread is missing.
    """
    a, h, end, index = _prepare(spread, "spread", horizon, groups)
    fut = _future(a, h, end)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = fut / a - 1.0 if relative else fut - a
    if relative:
        out[~np.isfinite(out)] = np.nan
    return _wrap(out, index, f"spread_change_{h}")
