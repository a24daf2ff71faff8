"""Causal features of order books, prices and volumes.

Every feature here is **causal**: its value at row ``t`` uses rows ``0..t`` only (never ``t+1`` or later), and is NaN
until enough rows have been seen (the warm-up). Rolling state restarts at every group boundary: pass ``groups`` (for
example the ``day`` column) and nothing reaches from one day into the next, so the first rows of each day are warm-up
again. Groups must be contiguous runs (each day appears in one block of rows).

Conventions shared by all functions:

- Inputs are array-likes or DataFrames in time order; outputs are float64 NumPy arrays of the same length (the
  frame-level :func:`compute_features` returns a DataFrame on the input's index). A pandas input whose time index is
  not sorted is a ``ValueError`` naming the first row out of order; datetime, timedelta, string or object data where
  numbers are expected is a ``TypeError`` naming the column.
- Non-finite inputs (NaN, inf) are missing values. A rolling window that contains a missing value gives NaN
  (``min_periods`` equals the window, as pandas' ``rolling(w)``); exponential averages skip missing values.
- Order-book columns follow the LOBSTER loader: ``ask_price_i, ask_size_i, bid_price_i, bid_size_i`` (dollars,
  shares; NaN for an empty level), message fields ``type, size, direction``; synthetic ticks
  (:mod:`signalbench.data.synthetic`) use the same book columns plus ``trade_sign`` and ``volume``.

The modules, one job each: :mod:`~signalbench.data.features.kernels` (the Numba loops, one pass, O(n) whatever the
window; each is a per-row state update, the form an online version repeats), :mod:`~signalbench.data.features.rolling`
(generic trailing transforms), :mod:`~signalbench.data.features.price` (price and volume features),
:mod:`~signalbench.data.features.book` (order-book features), :mod:`~signalbench.data.features.trades` (trade flow),
:mod:`~signalbench.data.features.lob_kernel` (the order-book sets as one O(1) per-event step kernel),
:mod:`~signalbench.data.features.lob` (those sets of a frame, a replay of the kernel),
:mod:`~signalbench.data.features.online` (:class:`OnlineFeatures`, the kernel one event at a time),
:mod:`~signalbench.data.features.sets` (the named feature sets and :func:`compute_features`). Each feature set
computes a million rows in well under a second. See docs/architecture.md, "Online features".
"""

from __future__ import annotations

from signalbench.data._inputs import group_ids
from signalbench.data.features._frame import book_levels
from signalbench.data.features.book import (
    depth_imbalance,
    half_spread_bps,
    microprice,
    microprice_deviation_bps,
    mid_price,
    order_flow_imbalance,
    order_flow_imbalance_total,
    spread,
    spread_bps,
)
from signalbench.data.features.online import OnlineFeatures
from signalbench.data.features.price import (
    ma_ratio,
    price_series,
    returns,
    rolling_volatility,
    rsi,
    sma,
    volume_dispersion,
    volume_ratio,
    volume_series,
)
from signalbench.data.features.rolling import ema, rolling_mean, rolling_std, rolling_sum
from signalbench.data.features.sets import FeatureSet, available_feature_sets, compute_features, feature_set
from signalbench.data.features.trades import signed_trade_volume, trade_flow, trade_imbalance

__all__ = [
    "FeatureSet",
    "OnlineFeatures",
    "available_feature_sets",
    "book_levels",
    "compute_features",
    "depth_imbalance",
    "ema",
    "feature_set",
    "group_ids",
    "half_spread_bps",
    "ma_ratio",
    "mid_price",
    "microprice",
    "microprice_deviation_bps",
    "order_flow_imbalance",
    "order_flow_imbalance_total",
    "price_series",
    "returns",
    "rolling_mean",
    "rolling_std",
    "rolling_sum",
    "rolling_volatility",
    "rsi",
    "signed_trade_volume",
    "sma",
    "spread",
    "spread_bps",
    "trade_flow",
    "trade_imbalance",
    "volume_dispersion",
    "volume_ratio",
    "volume_series",
]
