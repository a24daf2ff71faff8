"""Training targets, which look into the future by design.

**Warning: look-ahead.**

Every function here reads rows *after* ``t`` to build the target of row ``t``. They exist to train and score
models, and must never be used as inputs (features live in :mod:`signalbench.data.features`, which is causal). A
model's prediction at ``t`` is compared with the label at ``t``.

Conventions:

- Inputs are 1-D array-likes in time order (a Series keeps its index in the output; one whose time index is not
  sorted is a ``ValueError``); outputs are float64 with NaN where the label cannot be known: rows whose horizon runs
  past the end of the data, or past the end of the row's group (pass ``groups``, e.g. the ``day`` column, so no label
  reaches into the next day). Missing inputs give NaN. A NaN label is never replaced by a guessed class; drop those
  rows when training. When *no* row gets a label (a horizon at least as long as every group) the all-NaN result
  comes with an :class:`signalbench._validation.EmptyResultWarning`.
- Prices (``direction``, ``smoothed_direction``, ``forward_log_return``, and the changes they are built from) must be
  > 0: a ratio of negative prices inverts up and down, so a price <= 0 is a ``ValueError`` naming its row.
- Classes: **0 = down, 1 = stationary, 2 = up**. A change that is zero (or within the threshold) is
  stationary, never down. "Zero" allows for float rounding: a relative change within ``TIE_RTOL = 1e-10`` counts
  as no change, because mids computed from different bid/ask pairs with the same true mid, such as
  ``(100.02 + 100.00) / 2`` and ``(100.04 + 99.98) / 2``, can differ in the last bit.

The stationary threshold
------------------------
A fixed threshold (``alpha`` of :func:`smoothed_direction`, ``threshold`` of :func:`direction`) means different
class balances on different stocks and days. To fit it from data instead, without looking at the rows it will be
scored on: compute the continuous change the labels threshold (:func:`smoothed_change`, :func:`forward_change`), fit
the threshold as a quantile of its absolute value on the training rows only (:func:`fit_stationary_threshold`), and
pass that number back::

    change = smoothed_change(mid, 10, groups=day)
    alpha = fit_stationary_threshold(change, split.train, quantile=1 / 3)   # ~1/3 of training rows stationary
    y = smoothed_direction(mid, 10, alpha=alpha, groups=day)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from signalbench._validation import boolean, expected, integer, number, numeric_array, warn_empty, where
from signalbench.data._inputs import group_bounds, group_ids, row_positions, series

__all__ = [
    "DEFAULT_THRESHOLD",
    "DOWN",
    "KINDS",
    "STATIONARY",
    "TIE_RTOL",
    "UP",
    "direction",
    "fit_stationary_threshold",
    "forward_change",
    "forward_log_return",
    "label_change",
    "make_labels",
    "smoothed_change",
    "smoothed_direction",
    "spread_change",
]

DOWN = 0
STATIONARY = 1
UP = 2

# Relative changes this small are float rounding of equal prices, not moves: a mid of (100.02 + 100.00) / 2 and one
# of (100.04 + 99.98) / 2 differ in the last bit. Far below any tick (1 tick of $0.01 at $100,000 is 1e-7).
TIE_RTOL = 1e-10


@njit(cache=True)
def _forward_mean_nb(x, h, last):
    # mean(x[t+1 .. t+h]) when t + h <= last[t] (the last row of t's group), else NaN.
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(n):
        if t + h > last[t]:
            continue
        s = 0.0
        for j in range(t + 1, t + h + 1):
            s += x[j]
        out[t] = s / h
    return out


class _Prepared:
    """A label input made ready: values (missing as NaN), horizon, last row of each row's group, the index."""

    def __init__(self, x: Any, name: str, horizon: Any, groups: Any, *, positive: bool) -> None:
        self.index = x.index if isinstance(x, pd.Series) else None
        values = series(x, name)
        self.values = np.where(np.isfinite(values), values, np.nan)
        if positive:
            _check_positive(self.values, name, self.index)
        self.horizon = integer(horizon, "horizon", minimum=1)
        gid = group_ids(groups, values.size)
        _, self.last = group_bounds(gid)
        self.has_label = np.arange(values.size) + self.horizon <= self.last
        if values.size and not self.has_label.any():
            longest = int(np.max(np.bincount(gid)))
            warn_empty(
                f"horizon={self.horizon} reaches past the end of every group (the longest has {longest} rows): "
                "every label is NaN; use a shorter horizon or more rows per group",
                stacklevel=4,
            )

    def future(self) -> np.ndarray:
        """``values[t + horizon]`` where that row is in t's group, else NaN."""
        out = np.full(self.values.size, np.nan)
        rows = np.flatnonzero(self.has_label)
        out[rows] = self.values[rows + self.horizon]
        return out

    def wrap(self, values: np.ndarray, name: str) -> Any:
        return values if self.index is None else pd.Series(values, index=self.index, name=f"{name}_{self.horizon}")


def _check_positive(values: np.ndarray, name: str, index: pd.Index | None) -> None:
    bad = values <= 0  # NaN compares False: missing values are allowed
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            expected(
                name,
                "prices > 0",
                float(values[row]),
                at=where(row, index=index),
                raw=True,
                hint="a ratio of prices <= 0 would invert up and down",
            )
        )


def _forward_ratio(p: _Prepared) -> np.ndarray:
    return p.future() / p.values - 1.0


def _smoothed_ratio(p: _Prepared) -> np.ndarray:
    return _forward_mean_nb(p.values, p.horizon, p.last) / p.values - 1.0


def _classify(change: np.ndarray, threshold: float) -> np.ndarray:
    out = np.full(change.shape, np.nan)
    ok = np.isfinite(change)
    c = change[ok]
    bound = threshold + TIE_RTOL
    out[ok] = np.where(c > bound, UP, np.where(c < -bound, DOWN, STATIONARY))
    return out


def forward_change(mid, horizon: int = 1, *, groups=None):
    """Relative change of the mid over the next ``horizon`` rows, ``mid[t + horizon] / mid[t] - 1``.

    **Warning: looks ahead (a target, never a feature).** The continuous quantity :func:`direction` thresholds;
    fit its threshold on training rows with :func:`fit_stationary_threshold`.

    Parameters
    ----------
    mid : array-like or pandas.Series
        Mid prices (> 0) in time order.
    horizon : int, default 1
        Rows ahead.
    groups : array-like, optional
        Group labels (days); NaN where ``t + horizon`` lies in a later group.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64; NaN for the last ``horizon`` rows of each group and where a mid is missing.
    """
    p = _Prepared(mid, "mid", horizon, groups, positive=True)
    return p.wrap(_forward_ratio(p), "forward_change")


def smoothed_change(mid, horizon: int = 10, *, groups=None):
    """FI-2010 smoothed change ``l[t] = (mean(mid[t+1 .. t+horizon]) - mid[t]) / mid[t]`` (Ntakaris et al. 2018).

    **Warning: looks ahead (a target, never a feature).** The continuous quantity :func:`smoothed_direction`
    thresholds; fit its threshold on training rows with :func:`fit_stationary_threshold`.

    Parameters
    ----------
    mid : array-like or pandas.Series
        Mid prices (> 0) in time order.
    horizon : int, default 10
        Number of future mids averaged.
    groups : array-like, optional
        Group labels; NaN where the averaging window reaches into a later group.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64; NaN for the last ``horizon`` rows of each group and where a mid is missing.
    """
    p = _Prepared(mid, "mid", horizon, groups, positive=True)
    return p.wrap(_smoothed_ratio(p), "smoothed_change")


def fit_stationary_threshold(change, rows, *, quantile: float = 1 / 3) -> float:
    """Fit the stationary threshold as a quantile of ``|change|`` over the given (training) rows only.

    With ``quantile=q`` about a fraction ``q`` of the training rows fall in the stationary class (|change| within
    the threshold) and the rest split between up and down; ``1/3`` balances the three classes. Only ``change[rows]``
    is read, so values on validation and test rows cannot influence the threshold: pass the training rows of a
    purged split (:mod:`signalbench.data.splits`), whose label windows end before the next part begins.

    Parameters
    ----------
    change : array-like or pandas.Series
        The continuous change of every row (:func:`smoothed_change` or :func:`forward_change`).
    rows : array-like of int
        Row positions to fit on (sorted, unique), e.g. ``split.train``. Rows whose change is NaN are skipped.
    quantile : float, default 1/3
        In (0, 1).

    Returns
    -------
    float
        The threshold (>= 0), for ``smoothed_direction(..., alpha=...)`` or ``direction(..., threshold=...)``.

    Raises
    ------
    ValueError
        When no given row has a finite change, or for rows outside the data or a quantile outside (0, 1).
    """
    values, _, _ = numeric_array(change, "change", ndim=(1,), allow_inf=True)
    q = number(quantile, "quantile", low=0.0, high=1.0, low_open=True, high_open=True)
    picked = np.abs(values[row_positions(rows, values.size)])
    picked = picked[np.isfinite(picked)]
    if picked.size == 0:
        raise ValueError(
            expected(
                "rows",
                "at least one row with a finite change",
                "none",
                raw=True,
                hint="the last horizon rows of each group have no label",
            )
        )
    return float(np.quantile(picked, q))


def direction(mid, horizon: int = 1, *, threshold: float = 0.0, groups=None):
    """Direction of the mid over ``horizon`` rows.

    **Warning: looks ahead (a target, never a feature).**

    ``r[t] = mid[t + horizon] / mid[t] - 1`` (:func:`forward_change`); class 2 (up) if ``r > threshold``, 0 (down)
    if ``r < -threshold``, else 1 (stationary). With the default threshold 0 an unchanged mid is stationary, never
    down (changes within float rounding, ``|r| <= TIE_RTOL``, count as unchanged).

    Parameters
    ----------
    mid : array-like or pandas.Series
        Mid prices (or any price, > 0) in time order.
    horizon : int, default 1
        Rows ahead.
    threshold : float, default 0.0
        Relative change (e.g. ``1e-4`` = 1 bp) below which a move counts as stationary; fit it on training rows
        with :func:`fit_stationary_threshold` if wanted.
    groups : array-like, optional
        Group labels (days); a row whose ``t + horizon`` lies in a later group gets NaN.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64 classes 0/1/2, NaN for the last ``horizon`` rows of each group and where a mid is missing; a Series
        (same index) when ``mid`` is one.
    """
    p = _Prepared(mid, "mid", horizon, groups, positive=True)
    return p.wrap(_classify(_forward_ratio(p), number(threshold, "threshold", low=0.0)), "direction")


def smoothed_direction(mid, horizon: int = 10, *, alpha: float = 2e-5, groups=None):
    """FI-2010 smoothed label (Ntakaris et al. 2018).

    **Warning: looks ahead (a target, never a feature).**

    ``l[t] = (mean(mid[t+1 .. t+horizon]) - mid[t]) / mid[t]`` (:func:`smoothed_change`); class 2 (up) if
    ``l > alpha``, 0 (down) if ``l < -alpha``, else 1 (stationary).

    Parameters
    ----------
    mid : array-like or pandas.Series
        Mid prices (> 0) in time order.
    horizon : int, default 10
        Number of future mids averaged (FI-2010 uses 1, 2, 3, 5 and 10 events).
    alpha : float, default 2e-5
        Relative threshold of the stationary class (FI-2010 uses 0.002 on its normalized prices; DeepLOB 2e-5), or
        one fitted on training rows: ``fit_stationary_threshold(smoothed_change(mid, horizon), split.train)``.
    groups : array-like, optional
        Group labels; a row whose averaging window reaches into a later group gets NaN.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Float64 classes 0/1/2, NaN for the last ``horizon`` rows of each group and where a mid is missing.
    """
    p = _Prepared(mid, "mid", horizon, groups, positive=True)
    return p.wrap(_classify(_smoothed_ratio(p), number(alpha, "alpha", low=0.0)), "smoothed_direction")


def forward_log_return(price, horizon: int = 1, *, groups=None):
    """Log return over the next ``horizon`` rows, ``log(price[t + horizon] / price[t])``.

    **Warning: looks ahead (a target, never a feature).** The regression target of a model that predicts the next
    price, in its scale-free form.

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
        Float64; NaN for the last ``horizon`` rows of each group and for missing prices.
    """
    p = _Prepared(price, "price", horizon, groups, positive=True)
    return p.wrap(np.log(p.future() / p.values), "forward_log_return")


def spread_change(spread, horizon: int = 1, *, relative: bool = False, groups=None):
    """Change of the quoted spread over the next ``horizon`` rows.

    **Warning: looks ahead (a target, never a feature).**

    ``spread[t + horizon] - spread[t]`` (dollars), or ``spread[t + horizon] / spread[t] - 1`` with
    ``relative=True``: the auxiliary target of a multi-task model. Pass the output of
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
    p = _Prepared(spread, "spread", horizon, groups, positive=False)
    fut = p.future()
    if not boolean(relative, "relative"):
        return p.wrap(fut - p.values, "spread_change")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = fut / p.values - 1.0
    out[~np.isfinite(out)] = np.nan
    return p.wrap(out, "spread_change")


# ---------------------------------------------------------------------------------------------------------------------
# The label recipe: the one place a run's labels are made (the experiment per fold, streaming's realised labels)
# ---------------------------------------------------------------------------------------------------------------------

#: The label kinds of an experiment's ``[labels]``.
KINDS = ("direction", "smoothed_direction", "forward_return")
#: The stationary threshold when neither a threshold nor a quantile is given (the functions' documented defaults).
DEFAULT_THRESHOLD = {"direction": 0.0, "smoothed_direction": 2e-5}


def label_change(price, kind: str, horizon: int, *, groups=None) -> np.ndarray:
    """The continuous change that the labels of ``kind`` threshold (:func:`forward_change` or :func:`smoothed_change`).

    Raises
    ------
    ValueError
        For ``forward_return`` (no stationary band) or an unknown kind.
    """
    makers = {"direction": forward_change, "smoothed_direction": smoothed_change}
    if kind not in makers:
        raise ValueError(expected("kind", "'direction' or 'smoothed_direction' (labels with a stationary band)", kind))
    return np.asarray(makers[kind](price, horizon, groups=groups), dtype=np.float64)


def make_labels(
    price, kind: str, horizon: int, *, threshold=None, quantile=None, fit_rows=None, groups=None
) -> tuple[np.ndarray, float | None]:
    """The labels of every row by the one recipe: kind, horizon, and a threshold given, fitted or the default.

    Parameters
    ----------
    price : array-like
        The traded price (or mid), > 0, in time order.
    kind : {"direction", "smoothed_direction", "forward_return"}
        :func:`direction`, :func:`smoothed_direction` (classes 0, 1, 2) or :func:`forward_log_return`.
    horizon : int
        Rows ahead.
    threshold : float, optional
        The stationary band; wins over ``quantile``.
    quantile : float, optional
        Without ``threshold``: fit the band as this quantile of ``|change|`` on ``fit_rows`` only
        (:func:`fit_stationary_threshold`). Without either: :data:`DEFAULT_THRESHOLD`.
    fit_rows : array-like of int, optional
        The rows the quantile is fit on (a fold's training rows); required with ``quantile``.
    groups : array-like, optional
        Group labels (days): no label crosses a group's end.

    Returns
    -------
    labels : numpy.ndarray
        ``(n,)`` float64, NaN where the label window leaves the group or the data.
    threshold : float or None
        The band used (None for ``forward_return``).
    """
    if kind == "forward_return":
        return np.asarray(forward_log_return(price, horizon, groups=groups), dtype=np.float64), None
    change = label_change(price, kind, horizon, groups=groups)  # checks the kind
    if threshold is None and quantile is not None:
        if fit_rows is None:
            raise ValueError(expected("fit_rows", "the rows to fit the stationary quantile on", "none", raw=True))
        threshold = fit_stationary_threshold(change, fit_rows, quantile=quantile)
    band = float(DEFAULT_THRESHOLD[kind] if threshold is None else threshold)
    if kind == "direction":
        y = direction(price, horizon, threshold=band, groups=groups)
    else:
        y = smoothed_direction(price, horizon, alpha=band, groups=groups)
    return np.asarray(y, dtype=np.float64), band
