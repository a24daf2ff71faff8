"""Causal features of order books, prices and volumes.

Every feature here is **causal**: its value at row ``t`` uses rows ``0..t`` only (never ``t+1`` or later), and is NaN
until enough rows have been seen (the warm-up). Rolling state restarts at every group boundary: pass ``groups`` (for
example the ``day`` column) and nothing reaches from one day into the next, so the first rows of each day are warm-up
again. Groups must be contiguous runs (each day appears in one block of rows).

Conventions shared by all functions:

- Inputs are array-likes or DataFrames in time order; outputs are float64 NumPy arrays of the same length (the
  frame-level :func:`compute_features` returns a DataFrame on the input's index).
- Non-finite inputs (NaN, inf) are missing values. A rolling window that contains a missing value gives NaN
  (``min_periods`` equals the window, as pandas' ``rolling(w)``); exponential averages skip missing values.
- Order-book columns follow the LOBSTER loader: ``ask_price_i, ask_size_i, bid_price_i, bid_size_i`` (dollars,
  shares; NaN for an empty level), message fields ``type, size, direction``; synthetic ticks
  (:mod:`signalbench.data.synthetic`) use the same book columns plus ``trade_sign`` and ``volume``.

Kernels are Numba ``@njit(cache=True)`` loops over NumPy arrays (one pass, O(n) whatever the window), so each
feature set computes a million rows in well under a second.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

__all__ = [
    "FeatureSet",
    "available_feature_sets",
    "book_levels",
    "compute_features",
    "depth_imbalance",
    "ema",
    "feature_set",
    "group_ids",
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


# --------------------------------------------------------------------------------------------------------------
# Numba kernels: 1-D float64 in, 1-D float64 out; ``gid`` is a run id per row, state restarts where it changes.
# --------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def _rolling_sum_nb(x, w, gid):
    n = x.shape[0]
    out = np.full(n, np.nan)
    s = 0.0
    comp = 0.0  # Kahan compensation
    missing = 0
    start = 0
    for t in range(n):
        if t == 0 or gid[t] != gid[t - 1]:
            s = 0.0
            comp = 0.0
            missing = 0
            start = t
        v = x[t]
        if np.isfinite(v):
            y = v - comp
            tmp = s + y
            comp = (tmp - s) - y
            s = tmp
        else:
            missing += 1
        if t - start >= w:
            old = x[t - w]
            if np.isfinite(old):
                y = -old - comp
                tmp = s + y
                comp = (tmp - s) - y
                s = tmp
            else:
                missing -= 1
        if t - start + 1 >= w and missing == 0:
            out[t] = s
    return out


@njit(cache=True)
def _rolling_var_nb(x, w, gid, ddof):
    # Sums of (x - K) and (x - K)^2 with a shift K re-anchored, and the sums recomputed exactly, every w rows:
    # O(n) overall, no drift, and an exact 0 for a constant window. NaN when the window holds a missing value.
    n = x.shape[0]
    out = np.full(n, np.nan)
    s1 = 0.0
    s2 = 0.0
    anchor = 0.0
    missing = 0
    start = 0
    for t in range(n):
        if t == 0 or gid[t] != gid[t - 1]:
            start = t
        lo = max(start, t - w + 1)
        if (t - start) % w == 0:
            anchor = x[t] if np.isfinite(x[t]) else 0.0
            s1 = 0.0
            s2 = 0.0
            missing = 0
            for j in range(lo, t + 1):
                v = x[j]
                if np.isfinite(v):
                    d = v - anchor
                    s1 += d
                    s2 += d * d
                else:
                    missing += 1
        else:
            v = x[t]
            if np.isfinite(v):
                d = v - anchor
                s1 += d
                s2 += d * d
            else:
                missing += 1
            if t - w >= start:
                old = x[t - w]
                if np.isfinite(old):
                    d = old - anchor
                    s1 -= d
                    s2 -= d * d
                else:
                    missing -= 1
        nobs = t - lo + 1 - missing
        if t - start + 1 >= w and missing == 0 and nobs > ddof:
            out[t] = max(s2 - s1 * s1 / nobs, 0.0) / (nobs - ddof)
    return out


@njit(cache=True)
def _ewm_nb(x, alpha, min_periods, gid):
    # adjust=False exponential mean seeded with the group's first finite value; missing values are skipped
    # (the state is carried and reported), as pandas' ewm(adjust=False, ignore_na=True).
    n = x.shape[0]
    out = np.full(n, np.nan)
    state = np.nan
    count = 0
    for t in range(n):
        if t == 0 or gid[t] != gid[t - 1]:
            state = np.nan
            count = 0
        v = x[t]
        if np.isfinite(v):
            if count == 0:
                state = v
            else:
                state = alpha * v + (1.0 - alpha) * state
            count += 1
        if count >= min_periods:
            out[t] = state
    return out


@njit(cache=True)
def _rsi_nb(x, w, gid):
    n = x.shape[0]
    out = np.full(n, np.nan)
    alpha = 1.0 / w
    up = 0.0
    dn = 0.0
    count = 0
    for t in range(n):
        if t == 0 or gid[t] != gid[t - 1]:
            up = 0.0
            dn = 0.0
            count = 0
            continue
        d = x[t] - x[t - 1]
        if np.isfinite(d):
            u = d if d > 0.0 else 0.0
            m = -d if d < 0.0 else 0.0
            if count == 0:
                up = u
                dn = m
            else:
                up = alpha * u + (1.0 - alpha) * up
                dn = alpha * m + (1.0 - alpha) * dn
            count += 1
        if count >= w:
            if dn == 0.0:
                out[t] = 50.0 if up == 0.0 else 100.0
            else:
                out[t] = 100.0 - 100.0 / (1.0 + up / dn)
    return out


@njit(cache=True)
def _lag_nb(x, k, gid):
    # x[t - k] within the group, NaN where t - k is before the group's first row.
    n = x.shape[0]
    out = np.full(n, np.nan)
    start = 0
    for t in range(n):
        if t == 0 or gid[t] != gid[t - 1]:
            start = t
        if t - k >= start:
            out[t] = x[t - k]
    return out


@njit(cache=True)
def _ofi_nb(bp, bq, ap, aq, gid):
    # Cont, Kukanov and Stoikov (2014), eq. (2); empty levels: bid price -inf, ask price +inf, size 0.
    n = bp.shape[0]
    out = np.full(n, np.nan)
    for t in range(1, n):
        if gid[t] != gid[t - 1]:
            continue
        e = 0.0
        if bp[t] >= bp[t - 1]:
            e += bq[t]
        if bp[t] <= bp[t - 1]:
            e -= bq[t - 1]
        if ap[t] <= ap[t - 1]:
            e -= aq[t]
        if ap[t] >= ap[t - 1]:
            e += aq[t - 1]
        out[t] = e
    return out


# --------------------------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------------------------


def _as_float(x, name: str) -> np.ndarray:
    if isinstance(x, pd.Series):
        arr = x.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric, got {type(x).__name__}: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _window(window, name: str = "window") -> int:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {window!r}")
    return int(window)


def group_ids(groups, n: int) -> np.ndarray:
    """Run id per row (int64, 0, 1, 2, ...) from group labels such as a ``day`` column.

    Parameters
    ----------
    groups : array-like or None
        One label per row, in time order; rows of one group must be contiguous. ``None`` gives a single group.
    n : int
        Number of rows.

    Returns
    -------
    numpy.ndarray
        ``gid`` with ``gid[t] != gid[t-1]`` exactly where a new group starts.

    Raises
    ------
    ValueError
        If the length differs from ``n``, a label is missing, or a group appears in more than one block of rows.
    """
    if groups is None:
        return np.zeros(n, dtype=np.int64)
    labels = groups.to_numpy() if isinstance(groups, (pd.Series, pd.Index)) else np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"groups must have one label per row ({n}), got shape {labels.shape}")
    codes, uniques = pd.factorize(labels)
    if n and codes.min() < 0:
        raise ValueError(f"groups has a missing label at row {int(np.argmin(codes))}")
    change = np.empty(n, dtype=bool)
    if n:
        change[0] = False
        np.not_equal(codes[1:], codes[:-1], out=change[1:])
    gid = np.cumsum(change, dtype=np.int64)
    if n and gid[-1] + 1 != len(uniques):
        first_runs = np.flatnonzero(np.r_[True, change[1:]])
        seen: set[int] = set()
        for row in first_runs:
            if codes[row] in seen:
                raise ValueError(
                    f"groups must be contiguous runs (sorted by time), but group {uniques[codes[row]]!r} "
                    f"starts again at row {int(row)}"
                )
            seen.add(int(codes[row]))
    return gid


class _Runs:
    """Run ids already computed by :func:`group_ids` (passed between the functions of a feature set)."""

    __slots__ = ("gid",)

    def __init__(self, gid: np.ndarray) -> None:
        self.gid = gid


def _gid(groups, n):
    if isinstance(groups, _Runs):
        if groups.gid.shape[0] != n:
            raise ValueError(f"groups must have one label per row ({n}), got {groups.gid.shape[0]}")
        return groups.gid
    return group_ids(groups, n)


def _frame_groups(df: pd.DataFrame, groups):
    if isinstance(groups, str):
        if groups not in df.columns:
            if groups == "day":
                return None
            raise ValueError(f"groups column {groups!r} not found; columns are {list(df.columns)}")
        return df[groups]
    return groups


def _column(df: pd.DataFrame, name: str, what: str) -> np.ndarray:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame for {what}, got {type(df).__name__}")
    if name not in df.columns:
        raise ValueError(f"{what} needs column {name!r}, which is missing; columns are {list(df.columns)}")
    return _as_float(df[name], name)


def book_levels(df: pd.DataFrame) -> int:
    """Number of book levels present: the largest ``L`` with all four ``*_price_i``/``*_size_i`` columns, i <= L.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame in the LOBSTER column format.

    Returns
    -------
    int
        0 when even level 1 is missing.
    """
    level = 0
    while all(f"{side}_{kind}_{level + 1}" in df.columns for side in ("ask", "bid") for kind in ("price", "size")):
        level += 1
    return level


# --------------------------------------------------------------------------------------------------------------
# Generic causal transforms
# --------------------------------------------------------------------------------------------------------------


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
    a = _as_float(x, "x")
    return _rolling_sum_nb(a, _window(window), _gid(groups, a.size))


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
    w = _window(window)
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
    a = _as_float(x, "x")
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise ValueError(f"ddof must be a non-negative integer, got {ddof!r}")
    return np.sqrt(_rolling_var_nb(a, _window(window), _gid(groups, a.size), int(ddof)))


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
    p = _as_float(price, "price")
    lagged = _lag_nb(p, _window(horizon, "horizon"), _gid(groups, p.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        return p / lagged - 1.0


def sma(x, window: int = 20, *, groups=None) -> np.ndarray:
    """Simple moving average ``(x[t-window+1] + ... + x[t]) / window`` (seed 002's ``SMA_20``).

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
    a = _as_float(x, "x")
    w = _window(window)
    return _ewm_nb(a, 2.0 / (w + 1.0), w, _gid(groups, a.size))


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
    a = _as_float(x, "x")
    return _rsi_nb(a, _window(window), _gid(groups, a.size))


def ma_ratio(price, window: int, *, groups=None) -> np.ndarray:
    """Price over its moving average, minus one: ``price[t] / sma(price, window)[t] - 1`` (seed 000).

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
    p = _as_float(price, "price")
    with np.errstate(divide="ignore", invalid="ignore"):
        return p / rolling_mean(p, window, groups=groups) - 1.0


def rolling_volatility(price, window: int, *, groups=None) -> np.ndarray:
    """Sample standard deviation of the one-row returns over the last ``window`` rows (seed 000's volatility).

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


def _safe_ratio(num, den):
    # num / den, with 0 where den == 0 (a window without volume: no information rather than inf/NaN).
    out = np.full(num.shape, np.nan)
    ok = np.isfinite(num) & np.isfinite(den)
    nz = ok & (den != 0)
    out[nz] = num[nz] / den[nz]
    out[ok & (den == 0)] = 0.0
    return out


def volume_ratio(volume, window: int = 20, *, groups=None) -> np.ndarray:
    """Volume over its trailing mean: ``volume[t] / rolling_mean(volume, window)[t]`` (seed 000).

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
    v = _as_float(volume, "volume")
    return _safe_ratio(v, rolling_mean(v, window, groups=groups))


def volume_dispersion(volume, window: int = 20, *, groups=None) -> np.ndarray:
    """Coefficient of variation of volume: ``rolling_std(volume, window) / rolling_mean(volume, window)``.

    Seed 000's ``volume_std``; sample standard deviation (ddof 1); 0 when the window holds no volume.

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
    v = _as_float(volume, "volume")
    return _safe_ratio(rolling_std(v, window, groups=groups), rolling_mean(v, window, groups=groups))


# --------------------------------------------------------------------------------------------------------------
# Order book (LOBSTER column format)
# --------------------------------------------------------------------------------------------------------------


def _best(df, what):
    return _column(df, "ask_price_1", what), _column(df, "bid_price_1", what)


def mid_price(df: pd.DataFrame) -> np.ndarray:
    """Mid price ``(ask_price_1 + bid_price_1) / 2``; NaN when either side is empty.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64, dollars.
    """
    ask, bid = _best(df, "mid_price")
    return (ask + bid) / 2.0


def spread(df: pd.DataFrame) -> np.ndarray:
    """Quoted spread ``ask_price_1 - bid_price_1`` in dollars; NaN when either side is empty.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    ask, bid = _best(df, "spread")
    return ask - bid


def spread_bps(df: pd.DataFrame) -> np.ndarray:
    """Relative spread ``(ask_price_1 - bid_price_1) / mid * 1e4`` in basis points.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    ask, bid = _best(df, "spread_bps")
    return (ask - bid) / ((ask + bid) / 2.0) * 1e4


def microprice(df: pd.DataFrame) -> np.ndarray:
    """Size-weighted mid ``(ask_price_1 * bid_size_1 + bid_price_1 * ask_size_1) / (bid_size_1 + ask_size_1)``.

    The price leans towards the side with the smaller queue (the "weighted mid" of Stoikov's micro-price paper).
    NaN when a side is empty or both sizes are 0.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64, dollars.
    """
    ask, bid = _best(df, "microprice")
    qa = _column(df, "ask_size_1", "microprice")
    qb = _column(df, "bid_size_1", "microprice")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (ask * qb + bid * qa) / (qa + qb)
    out[~np.isfinite(out)] = np.nan
    return out


def microprice_deviation_bps(df: pd.DataFrame) -> np.ndarray:
    """Micro-price minus mid, relative to the mid, in basis points: ``(microprice - mid) / mid * 1e4``.

    Equals ``spread / 2 * depth_imbalance(level=1) / mid * 1e4``: positive when the bid queue is the larger.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    mid = mid_price(df)
    return (microprice(df) - mid) / mid * 1e4


def depth_imbalance(df: pd.DataFrame, level: int = 1) -> np.ndarray:
    """Depth imbalance at one level: ``(bid_size_i - ask_size_i) / (bid_size_i + ask_size_i)`` in [-1, 1].

    An empty level counts as size 0; 0 (no imbalance) when both sides of the level are empty, so a thin book
    does not put NaNs into the middle of a series (NaN only for a missing size on a non-empty level).

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.
    level : int, default 1
        Book level ``i`` (1 = best).

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    i = _window(level, "level")
    qb = _column(df, f"bid_size_{i}", "depth_imbalance")
    qa = _column(df, f"ask_size_{i}", "depth_imbalance")
    qb = np.where(np.isfinite(_column(df, f"bid_price_{i}", "depth_imbalance")), qb, 0.0)
    qa = np.where(np.isfinite(_column(df, f"ask_price_{i}", "depth_imbalance")), qa, 0.0)
    total = qa + qb
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (qb - qa) / total, np.where(np.isfinite(total), 0.0, np.nan))


def _level_arrays(df, level, what):
    bp = _column(df, f"bid_price_{level}", what)
    bq = _column(df, f"bid_size_{level}", what)
    ap = _column(df, f"ask_price_{level}", what)
    aq = _column(df, f"ask_size_{level}", what)
    bid_empty = ~np.isfinite(bp)
    ask_empty = ~np.isfinite(ap)
    bp = np.where(bid_empty, -np.inf, bp)
    ap = np.where(ask_empty, np.inf, ap)
    bq = np.where(bid_empty | ~np.isfinite(bq), 0.0, bq)
    aq = np.where(ask_empty | ~np.isfinite(aq), 0.0, aq)
    return bp, bq, ap, aq


def order_flow_imbalance(df: pd.DataFrame, *, level: int = 1, groups=None) -> np.ndarray:
    """Order-flow imbalance of one book update at one level (Cont, Kukanov and Stoikov 2014, eq. 2).

    With bid ``B``, bid size ``q^B``, ask ``A`` and ask size ``q^A`` at the level::

        e[t] = 1{B[t] >= B[t-1]} q^B[t] - 1{B[t] <= B[t-1]} q^B[t-1]
             - 1{A[t] <= A[t-1]} q^A[t] + 1{A[t] >= A[t-1]} q^A[t-1]

    in shares: positive for buying pressure (bid queue growing or bid improving, ask queue shrinking or ask
    retreating). An empty level is a bid at -inf (ask at +inf) with size 0. The first row of each group is NaN.
    Sum it over a window with :func:`rolling_sum` for the OFI of an interval.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.
    level : int, default 1
        Book level.
    groups : array-like, optional
        Group labels; no difference is taken across a group boundary.

    Returns
    -------
    numpy.ndarray
        Float64.
    """
    i = _window(level, "level")
    bp, bq, ap, aq = _level_arrays(df, i, "order_flow_imbalance")
    return _ofi_nb(bp, bq, ap, aq, _gid(groups, len(df)))


def order_flow_imbalance_total(df: pd.DataFrame, *, levels: int | None = None, groups=None) -> np.ndarray:
    """Order-flow imbalance summed over the first ``levels`` levels: ``sum_i e_i[t]`` (multi-level OFI).

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format.
    levels : int, optional
        Number of levels to sum (default: all levels present, see :func:`book_levels`).
    groups : array-like, optional
        Group labels.

    Returns
    -------
    numpy.ndarray
        Float64; NaN on the first row of each group.
    """
    present = book_levels(df)
    n_levels = present if levels is None else _window(levels, "levels")
    if n_levels < 1 or n_levels > present:
        raise ValueError(f"levels must be between 1 and the {present} book levels present, got {levels!r}")
    gid = _gid(groups, len(df))
    total = np.zeros(len(df))
    for i in range(1, n_levels + 1):
        total += _ofi_nb(*_level_arrays(df, i, "order_flow_imbalance_total"), gid)
    return total


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
    if isinstance(df, pd.DataFrame) and {"type", "size", "direction"} <= set(df.columns):
        kind = _column(df, "type", "signed_trade_volume")
        size = _column(df, "size", "signed_trade_volume")
        direction = _column(df, "direction", "signed_trade_volume")
        return np.where((kind == 4) | (kind == 5), -direction * size, 0.0)
    if isinstance(df, pd.DataFrame) and {"trade_sign", "volume"} <= set(df.columns):
        return _column(df, "trade_sign", "signed_trade_volume") * _column(df, "volume", "signed_trade_volume")
    cols = list(df.columns) if isinstance(df, pd.DataFrame) else type(df).__name__
    raise ValueError(
        "signed_trade_volume needs LOBSTER message columns 'type', 'size', 'direction' or synthetic columns "
        f"'trade_sign', 'volume'; got {cols}"
    )


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
    return _safe_ratio(rolling_sum(v, window, groups=groups), rolling_sum(np.abs(v), window, groups=groups))


# --------------------------------------------------------------------------------------------------------------
# Column resolution for the frame-level feature sets
# --------------------------------------------------------------------------------------------------------------


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
    if "close" in df.columns:
        return _column(df, "close", "price features")
    if "ask_price_1" in df.columns and "bid_price_1" in df.columns:
        return mid_price(df)
    if "price" in df.columns:
        return _column(df, "price", "price features")
    raise ValueError(
        f"price features need a 'close' column, book columns 'ask_price_1'/'bid_price_1', or a 'price' column; "
        f"got {list(df.columns)}"
    )


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
    if "volume" in df.columns:
        return _column(df, "volume", "volume features")
    if {"type", "size"} <= set(df.columns):
        kind = _column(df, "type", "volume features")
        return np.where((kind == 4) | (kind == 5), _column(df, "size", "volume features"), 0.0)
    raise ValueError(
        f"volume features need a 'volume' column or LOBSTER columns 'type'/'size'; got {list(df.columns)}"
    )


def _spread_series(df):
    if "ask_price_1" in df.columns and "bid_price_1" in df.columns:
        return spread(df)
    return _column(df, "spread", "spread features")


def _imbalance_series(df):
    if "imbalance" in df.columns:
        return _column(df, "imbalance", "imbalance features")
    return depth_imbalance(df, 1)


# --------------------------------------------------------------------------------------------------------------
# Feature sets
# --------------------------------------------------------------------------------------------------------------


def _lob_basic(df, groups):
    mid = mid_price(df)
    ofi1 = order_flow_imbalance(df, level=1, groups=groups)
    ofi = order_flow_imbalance_total(df, groups=groups)
    return {
        "spread_bps": spread_bps(df),
        "microprice_dev_bps": microprice_deviation_bps(df),
        "depth_imbalance_1": depth_imbalance(df, 1),
        "ofi_l1_sum_10": rolling_sum(ofi1, 10, groups=groups),
        "ofi_l1_sum_100": rolling_sum(ofi1, 100, groups=groups),
        "ofi_sum_10": rolling_sum(ofi, 10, groups=groups),
        "trade_imbalance_10": trade_imbalance(df, 10, groups=groups),
        "trade_flow_100": trade_flow(df, 100, groups=groups),
        "mid_ret_1": returns(mid, 1, groups=groups),
        "mid_ret_10": returns(mid, 10, groups=groups),
        "mid_volatility_50": rolling_volatility(mid, 50, groups=groups),
    }


def _lob_levels(df, groups):
    out = {}
    levels = book_levels(df)
    if levels == 0:
        raise ValueError(f"feature set 'lob_levels' needs book columns ask_price_1 ...; got {list(df.columns)}")
    for i in range(1, levels + 1):
        out[f"depth_imbalance_{i}"] = depth_imbalance(df, i)
    for i in range(1, levels + 1):
        out[f"ofi_l{i}_sum_10"] = rolling_sum(order_flow_imbalance(df, level=i, groups=groups), 10, groups=groups)
    return out


def _seed000(df, groups):
    price = price_series(df)
    volume = volume_series(df)
    spr = _spread_series(df)
    imb = _imbalance_series(df)
    out = {f"return_{k}": returns(price, k, groups=groups) for k in (1, 5, 10)}
    for w in (5, 10, 20, 50):
        out[f"ma_ratio_{w}"] = ma_ratio(price, w, groups=groups)
    for w in (5, 10, 20, 50):
        out[f"volatility_{w}"] = rolling_volatility(price, w, groups=groups)
    out["volume_ma_ratio"] = volume_ratio(volume, 20, groups=groups)
    out["volume_std"] = volume_dispersion(volume, 20, groups=groups)
    out["spread"] = spr
    out["spread_ma_ratio"] = spr / rolling_mean(spr, 20, groups=groups)
    out["imbalance"] = imb
    out["imbalance_ma"] = rolling_mean(imb, 10, groups=groups)
    return out


def _seed002(df, groups):
    close = price_series(df)
    return {
        "close": close,
        "volume": volume_series(df),
        "sma_20": sma(close, 20, groups=groups),
        "ema_20": ema(close, 20, groups=groups),
        "rsi_14": rsi(close, 14, groups=groups),
    }


@dataclass(frozen=True)
class FeatureSet:
    """A named recipe of causal features.

    Attributes
    ----------
    name : str
        Registry name (``features = "lob_basic"`` in an experiment).
    description : str
        What the set contains and which columns it needs.
    build : callable
        ``build(df, groups) -> dict[str, ndarray]``, where ``groups`` is passed on to the feature functions as
        their ``groups`` argument; use :meth:`compute` instead of calling it directly.
    """

    name: str
    description: str
    build: Callable[[pd.DataFrame, object], dict[str, np.ndarray]]

    def compute(self, df: pd.DataFrame, *, groups="day") -> pd.DataFrame:
        """Compute the set on ``df``; see :func:`compute_features`.

        Parameters
        ----------
        df : pandas.DataFrame
            Input frame in time order.
        groups : str, array-like or None, default "day"
            Column name or labels of the groups (days) the rolling state restarts in; ``"day"`` is ignored when
            the frame has no such column; ``None`` treats the frame as one group.

        Returns
        -------
        pandas.DataFrame
            One float64 column per feature, on ``df``'s index.
        """
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"feature set {self.name!r} needs a pandas DataFrame, got {type(df).__name__}")
        runs = _Runs(group_ids(_frame_groups(df, groups), len(df)))
        columns = self.build(df, runs)
        return pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}, index=df.index)


_FEATURE_SETS: dict[str, FeatureSet] = {
    fs.name: fs
    for fs in (
        FeatureSet(
            "lob_basic",
            "Level-1 order-book features: spread_bps, microprice_dev_bps, depth_imbalance_1, OFI at level 1 summed "
            "over 10 and 100 events, multi-level OFI over 10 events, trade imbalance (10) and trade flow (100), "
            "mid returns (1, 10) and mid volatility (50). Needs ask/bid price/size columns and trades "
            "(LOBSTER type/size/direction or synthetic trade_sign/volume).",
            _lob_basic,
        ),
        FeatureSet(
            "lob_levels",
            "Per-level depth imbalance and per-level OFI summed over 10 events, for every book level present.",
            _lob_levels,
        ),
        FeatureSet(
            "seed000",
            "The 17 features of seed 000 made causal: returns (1, 5, 10), ma ratios and volatilities (5, 10, 20, "
            "50), volume ratio and dispersion (20), spread and spread ratio (20), imbalance and its mean (10). "
            "Price: close, else mid, else price; imbalance: the 'imbalance' column, else level-1 depth imbalance.",
            _seed000,
        ),
        FeatureSet(
            "seed002",
            "The 5 inputs of seed 002: close (raw price), volume, SMA 20, EMA 20, RSI 14.",
            _seed002,
        ),
    )
}


def available_feature_sets() -> tuple[str, ...]:
    """Names accepted by :func:`feature_set`.

    Returns
    -------
    tuple of str
        Sorted names.
    """
    return tuple(sorted(_FEATURE_SETS))


def feature_set(name: str) -> FeatureSet:
    """Look up a feature set by name.

    Parameters
    ----------
    name : str
        One of :func:`available_feature_sets` (``"lob_basic"``, ``"lob_levels"``, ``"seed000"``, ``"seed002"``).

    Returns
    -------
    FeatureSet
        The recipe; call ``.compute(df)``.

    Raises
    ------
    ValueError
        For an unknown name, with the closest match suggested.
    """
    try:
        return _FEATURE_SETS[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(_FEATURE_SETS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown feature set {name!r}{hint} Available: {', '.join(available_feature_sets())}"
        ) from None


def compute_features(
    df: pd.DataFrame, features: str | FeatureSet | Sequence[str] = "lob_basic", *, groups="day"
) -> pd.DataFrame:
    """Compute one or more feature sets on a frame, restarting rolling state at each day.

    Parameters
    ----------
    df : pandas.DataFrame
        Input in time order (LOBSTER frame, synthetic ticks or bars).
    features : str, FeatureSet or sequence of str, default "lob_basic"
        Feature-set name(s) or a :class:`FeatureSet`; several sets are concatenated in order (a name that appears
        twice is an error).
    groups : str, array-like or None, default "day"
        Column name or labels of the groups; ``"day"`` is used when that column exists, else the frame is one
        group. ``None`` forces a single group.

    Returns
    -------
    pandas.DataFrame
        Float64 features on ``df``'s index; NaN during warm-up at the start of each group.
    """
    if isinstance(features, FeatureSet):
        sets = [features]
    elif isinstance(features, str):
        sets = [feature_set(features)]
    else:
        sets = [f if isinstance(f, FeatureSet) else feature_set(f) for f in features]
        if not sets:
            raise ValueError("features must name at least one feature set")
    frames = [fs.compute(df, groups=groups) for fs in sets]
    if len(frames) == 1:
        return frames[0]
    out = pd.concat(frames, axis=1)
    dup = out.columns[out.columns.duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"feature sets {[fs.name for fs in sets]} produce duplicate columns {dup}")
    return out
