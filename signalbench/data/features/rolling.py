"""Generic causal transforms of one series: trailing sums, means, standard deviations, exponential averages."""

from __future__ import annotations

import numpy as np

from signalbench._validation import integer
from signalbench.data.features._frame import runs, series
from signalbench.data.features._frame import window as check_window
from signalbench.data.features.kernels import ewm_nb, rolling_sum_nb, rolling_var_nb

__all__ = ["ema", "rolling_mean", "rolling_std", "rolling_sum", "safe_ratio"]


def rolling_sum(x, window: int, *, groups=None) -> np.ndarray:
    """Trailing sum ``sum(x[t-window+1 .. t])``, NaN in warm-up or when the window holds a missing value.

    Parameters
    ----------
    x : array-like
        Values in time order.
    window : int
        Window length in rows (>= 1).
    groups : array-like, optional
        Group labels (e.g. days); the window restarts at each new group.

    Returns
    -------
    numpy.ndarray
        Float64, same length as ``x``; equals ``pandas.Series(x).rolling(window).sum()`` per group.
    """
    a = series(x, "x")
    return rolling_sum_nb(a, check_window(window), runs(groups, a.size))


def rolling_mean(x, window: int, *, groups=None) -> np.ndarray:
    """Trailing mean ``sum(x[t-window+1 .. t]) / window`` (pandas ``rolling(window).mean()`` per group).

    Parameters
    ----------
    x : array-like
        Values in time order.
    window : int
        Window length in rows (>= 1).
    groups : array-like, optional
        Group labels; the window restarts at each new group.

    Returns
    -------
    numpy.ndarray
        Float64, NaN during the first ``window - 1`` rows of each group and where the window holds a missing value.
    """
    w = check_window(window)
    return rolling_sum(x, w, groups=groups) / w


def rolling_std(x, window: int, *, groups=None, ddof: int = 1) -> np.ndarray:
    """Trailing standard deviation ``sqrt(sum((x - mean)^2) / (window - ddof))`` over ``x[t-window+1 .. t]``.

    Parameters
    ----------
    x : array-like
        Values in time order.
    window : int
        Window length in rows (>= 1; with ``ddof=1`` a window of 1 is all NaN, as in pandas).
    groups : array-like, optional
        Group labels; the window restarts at each new group.
    ddof : int, default 1
        Delta degrees of freedom (1: sample standard deviation, pandas' default).

    Returns
    -------
    numpy.ndarray
        Float64, NaN during warm-up and where the window holds a missing value.
    """
    a = series(x, "x")
    d = integer(ddof, "ddof", minimum=0)
    return np.sqrt(rolling_var_nb(a, check_window(window), runs(groups, a.size), d))


def ema(x, window: int = 20, *, groups=None) -> np.ndarray:
    """Exponential moving average ``e[t] = a * x[t] + (1 - a) * e[t-1]`` with ``a = 2 / (window + 1)``.

    Seeded with the group's first value (``e[start] = x[start]``) and reported from the ``window``-th observation of
    the group on (NaN before): the convention of ``ta.trend.EMAIndicator`` and of pandas
    ``ewm(span=window, adjust=False, min_periods=window)``. Missing values are skipped.

    Parameters
    ----------
    x : array-like
        Values in time order.
    window : int, default 20
        Span of the average.
    groups : array-like, optional
        Group labels; the average restarts each group.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    a = series(x, "x")
    w = check_window(window)
    return ewm_nb(a, 2.0 / (w + 1.0), w, runs(groups, a.size))


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, with 0 where ``den == 0`` (a window without volume: no information rather than inf or NaN)."""
    out = np.full(num.shape, np.nan)
    ok = np.isfinite(num) & np.isfinite(den)
    nz = ok & (den != 0)
    out[nz] = num[nz] / den[nz]
    out[ok & (den == 0)] = 0.0
    return out
