"""Causal price and volume features: returns, moving-average ratios, volatility, RSI, volume ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd

from signalbench.data.features._frame import column, frame, missing, runs, series
from signalbench.data.features._frame import window as check_window
from signalbench.data.features.book import mid_price
from signalbench.data.features.kernels import lag_nb, rsi_nb
from signalbench.data.features.rolling import rolling_mean, rolling_std, safe_ratio

__all__ = [
    "ma_ratio",
    "price_series",
    "returns",
    "rolling_volatility",
    "rsi",
    "sma",
    "volume_dispersion",
    "volume_ratio",
    "volume_series",
]


def returns(price, horizon: int = 1, *, groups=None) -> np.ndarray:
    """Simple return over ``horizon`` rows: ``price[t] / price[t - horizon] - 1``.

    Parameters
    ----------
    price : array-like
        Prices in time order.
    horizon : int, default 1
        Look-back in rows (>= 1).
    groups : array-like, optional
        Group labels; NaN for the first ``horizon`` rows of each group.

    Returns
    -------
    numpy.ndarray
        Float64 (pandas ``pct_change(horizon)`` per group).
    """
    p = series(price, "price")
    lagged = lag_nb(p, check_window(horizon, "horizon"), runs(groups, p.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        return p / lagged - 1.0


def sma(x, window: int = 20, *, groups=None) -> np.ndarray:
    """Simple moving average ``(x[t-window+1] + ... + x[t]) / window`` (the ``sma_20`` of ``close_indicators``).

    Parameters
    ----------
    x : array-like
        Values (usually a close price) in time order.
    window : int, default 20
        Window length.
    groups : array-like, optional
        Group labels; the average restarts each group.

    Returns
    -------
    numpy.ndarray
        Float64; NaN during the first ``window - 1`` rows of each group.
    """
    return rolling_mean(x, window, groups=groups)


def rsi(x, window: int = 14, *, groups=None) -> np.ndarray:
    """Relative strength index with Wilder's smoothing, in [0, 100].

    With ``d[t] = x[t] - x[t-1]``, ``U`` and ``D`` are exponential averages (``alpha = 1 / window``,
    ``adjust=False``) of ``max(d, 0)`` and ``max(-d, 0)``, each seeded with the group's first difference;
    ``RSI = 100 - 100 / (1 + U / D)``, 100 when ``D = 0 < U`` and 50 when ``U = D = 0`` (a flat price: ``ta``
    reports 100 there). The value is NaN until ``window`` differences have been seen, i.e. for the first
    ``window`` rows of each group. ``ta.momentum.RSIIndicator`` differs only in its warm-up: it treats the
    undefined first difference as 0 and reports from row ``window - 1``; the difference decays like
    ``(1 - 1/window)^t``.

    Parameters
    ----------
    x : array-like
        Prices in time order.
    window : int, default 14
        Smoothing window.
    groups : array-like, optional
        Group labels; the averages restart each group.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    a = series(x, "x")
    return rsi_nb(a, check_window(window), runs(groups, a.size))


def ma_ratio(price, window: int, *, groups=None) -> np.ndarray:
    """Price over its moving average, minus one: ``price[t] / sma(price, window)[t] - 1``.

    Parameters
    ----------
    price : array-like
        Prices in time order.
    window : int
        Moving-average window.
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64; NaN during the first ``window - 1`` rows of each group.
    """
    p = series(price, "price")
    with np.errstate(divide="ignore", invalid="ignore"):
        return p / rolling_mean(p, window, groups=groups) - 1.0


def rolling_volatility(price, window: int, *, groups=None) -> np.ndarray:
    """Sample standard deviation of the one-row returns over the last ``window`` rows.

    ``std(returns(price, 1)[t-window+1 .. t], ddof=1)``: not annualized. As the first return of each group is
    undefined, the first ``window`` rows of each group are NaN.

    Parameters
    ----------
    price : array-like
        Prices in time order.
    window : int
        Number of returns in the window (>= 2).
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    return rolling_std(returns(price, 1, groups=groups), window, groups=groups)


def volume_ratio(volume, window: int = 20, *, groups=None) -> np.ndarray:
    """Volume over its trailing mean: ``volume[t] / rolling_mean(volume, window)[t]``.

    0 when the window holds no volume at all (event data where most events are not trades).

    Parameters
    ----------
    volume : array-like
        Volumes in time order.
    window : int, default 20
        Window length.
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64; NaN during the first ``window - 1`` rows of each group.
    """
    v = series(volume, "volume")
    return safe_ratio(v, rolling_mean(v, window, groups=groups))


def volume_dispersion(volume, window: int = 20, *, groups=None) -> np.ndarray:
    """Coefficient of variation of volume: ``rolling_std(volume, window) / rolling_mean(volume, window)``.

    Sample standard deviation (ddof 1); 0 when the window holds no volume.

    Parameters
    ----------
    volume : array-like
        Volumes in time order.
    window : int, default 20
        Window length (>= 2).
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64; NaN during the first ``window - 1`` rows of each group.
    """
    v = series(volume, "volume")
    return safe_ratio(rolling_std(v, window, groups=groups), rolling_mean(v, window, groups=groups))


def price_series(df: pd.DataFrame) -> np.ndarray:
    """The price that price features use: ``close`` (bars), else the book mid (LOBSTER, synthetic), else ``price``.

    A LOBSTER frame's ``price`` column is the limit price of each message, not a market price, hence the mid
    comes first.

    Parameters
    ----------
    df : pandas.DataFrame
        Bars, a LOBSTER frame or synthetic ticks.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    frame(df, "price features")
    if "close" in df.columns:
        return column(df, "close", "price features")
    if "ask_price_1" in df.columns and "bid_price_1" in df.columns:
        return mid_price(df)
    if "price" in df.columns:
        return column(df, "price", "price features")
    raise missing(df, "a 'close' column, book columns 'ask_price_1'/'bid_price_1', or a 'price' column")


def volume_series(df: pd.DataFrame) -> np.ndarray:
    """The volume that volume features use: ``volume``, else executed size of LOBSTER messages (types 4 and 5).

    Parameters
    ----------
    df : pandas.DataFrame
        Bars, synthetic ticks or a LOBSTER frame.

    Returns
    -------
    numpy.ndarray
        Float64, shares.
    """
    frame(df, "volume features")
    if "volume" in df.columns:
        return column(df, "volume", "volume features")
    if {"type", "size"} <= set(df.columns):
        kind = column(df, "type", "volume features")
        return np.where((kind == 4) | (kind == 5), column(df, "size", "volume features"), 0.0)
    raise missing(df, "a 'volume' column, or LOBSTER columns 'type' and 'size'")
