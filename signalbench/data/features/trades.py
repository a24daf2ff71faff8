"""Trade-flow features: signed traded volume and its trailing sum and imbalance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from signalbench.data.features._frame import column, frame, missing
from signalbench.data.features.rolling import rolling_sum, safe_ratio

__all__ = ["signed_trade_volume", "trade_flow", "trade_imbalance"]


def signed_trade_volume(df: pd.DataFrame) -> np.ndarray:
    """Signed traded volume of each row: + for buyer-initiated, - for seller-initiated trades, 0 for no trade.

    LOBSTER messages (columns ``type, size, direction``): executions are types 4 (visible) and 5 (hidden); the
    direction is that of the resting limit order, so an execution against a buy limit order (direction 1) is a
    seller-initiated trade: ``v = -direction * size`` for types 4 and 5, else 0. Otherwise the columns
    ``trade_sign`` and ``volume`` (synthetic ticks): ``v = trade_sign * volume``.

    Parameters
    ----------
    df : pandas.DataFrame
        LOBSTER messages or synthetic ticks.

    Returns
    -------
    numpy.ndarray
        Float64, shares.
    """
    what = "signed_trade_volume"
    frame(df, what)
    if {"type", "size", "direction"} <= set(df.columns):
        kind = column(df, "type", what)
        executed = (kind == 4) | (kind == 5)
        return np.where(executed, -column(df, "direction", what) * column(df, "size", what), 0.0)
    if {"trade_sign", "volume"} <= set(df.columns):
        return column(df, "trade_sign", what) * column(df, "volume", what)
    raise missing(df, "LOBSTER message columns 'type', 'size', 'direction' or synthetic columns 'trade_sign', 'volume'")


def trade_flow(df: pd.DataFrame, window: int, *, groups=None) -> np.ndarray:
    """Net signed traded volume over the last ``window`` rows: ``rolling_sum(signed_trade_volume, window)``.

    Parameters
    ----------
    df : pandas.DataFrame
        LOBSTER messages or synthetic ticks (see :func:`signed_trade_volume`).
    window : int
        Window in rows (events).
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64, shares; NaN during the first ``window - 1`` rows of each group.
    """
    return rolling_sum(signed_trade_volume(df), window, groups=groups)


def trade_imbalance(df: pd.DataFrame, window: int, *, groups=None) -> np.ndarray:
    """Signed over total traded volume in the last ``window`` rows, in [-1, 1]; 0 when nothing traded.

    ``sum(v) / sum(|v|)`` over ``t-window+1 .. t`` with ``v`` from :func:`signed_trade_volume`.

    Parameters
    ----------
    df : pandas.DataFrame
        LOBSTER messages or synthetic ticks.
    window : int
        Window in rows (events).
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64; NaN during the first ``window - 1`` rows of each group.
    """
    v = signed_trade_volume(df)
    return safe_ratio(rolling_sum(v, window, groups=groups), rolling_sum(np.abs(v), window, groups=groups))
