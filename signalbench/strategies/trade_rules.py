"""Entry and exit rules on predicted returns: filtered entries; stop-loss, take-profit, time and signal exits.

:func:`rules` validates its inputs here and runs the state machine of
:func:`signalbench.strategies._kernels.rules_1d_nb` (documented there) on every column in parallel.
Conventions as in :mod:`signalbench.strategies.positions` (``docs/architecture.md``).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from signalbench._validation import boolean, integer, number
from signalbench.strategies._inputs import (
    as_columns,
    as_values,
    check_cells,
    check_columns,
    check_same_index,
    wrap,
)
from signalbench.strategies._kernels import rules_2d_nb

__all__ = ["rules"]


@dataclass(frozen=True)
class _Params:
    """The scalar parameters of :func:`rules`, checked, in the kernel's argument order."""

    threshold_long: float
    threshold_short: float
    rsi_long_max: float
    rsi_short_min: float
    stop_loss: float
    take_profit: float
    max_hold: int
    exit_on_opposite: bool
    reenter_on_exit_bar: bool

    @classmethod
    def check(cls, **kw: Any) -> _Params:
        """Check the keyword parameters of :func:`rules`; disabled exits become ``inf`` or the largest int64.

        Without an RSI filter (``filter_rsi`` false) the RSI levels are checked, then set to ``inf``/``-inf``.
        """
        thr_long = number(kw["threshold"], "threshold", low=0.0)
        thr_short = kw["short_threshold"]
        sl = number(kw["stop_loss"], "stop_loss", low=0.0, low_open=True, allow_none=True)
        tp = number(kw["take_profit"], "take_profit", low=0.0, low_open=True, allow_none=True)
        hold = integer(kw["max_hold"], "max_hold", minimum=1, allow_none=True)
        rsi_hi = number(kw["rsi_long_max"], "rsi_long_max")
        rsi_lo = number(kw["rsi_short_min"], "rsi_short_min")
        if not kw["filter_rsi"]:
            rsi_hi, rsi_lo = np.inf, -np.inf
        return cls(
            thr_long,
            thr_long if thr_short is None else number(thr_short, "short_threshold", low=0.0),
            rsi_hi,
            rsi_lo,
            np.inf if sl is None else sl,
            np.inf if tp is None else tp,
            np.iinfo(np.int64).max if hold is None else hold,
            boolean(kw["exit_on_opposite"], "exit_on_opposite"),
            boolean(kw["reenter_on_exit_bar"], "reenter_on_exit_bar"),
        )

    def per_column(self, m: int) -> list[np.ndarray]:
        """The parameters as (m,) arrays of the kernel's dtypes (float64, int64 for ``max_hold``, bool)."""
        values = astuple(self)
        dtypes = [np.float64] * 6 + [np.int64, np.bool_, np.bool_]
        return [np.full(m, value, dtype=dtype) for value, dtype in zip(values, dtypes)]


def rules(
    predicted_return: Any,
    price: Any,
    *,
    threshold: float = 0.0,
    short_threshold: float | None = None,
    rsi: Any = None,
    rsi_long_max: float = 70.0,
    rsi_short_min: float = 30.0,
    volume: Any = None,
    volume_window: int = 20,
    volume_factor: float = 1.0,
    stop_loss: float | None = None,
    take_profit: float | None = None,
    max_hold: int | None = None,
    exit_on_opposite: bool = True,
    reenter_on_exit_bar: bool = False,
) -> Any:
    """Trading rules on a predicted return: filtered entries; stop-loss, take-profit, time and signal exits.

    The state machine runs in the Numba kernel :func:`signalbench.strategies._kernels.rules_1d_nb`
    (one position at a time, in {-1, 0, 1}). At each bar ``t``:

    * **Entry** (when flat): long when ``predicted_return[t] > threshold``, ``rsi[t] < rsi_long_max``
      and volume confirms; short when ``predicted_return[t] < -short_threshold``,
      ``rsi[t] > rsi_short_min`` and volume confirms. The entry price is ``price[t]``.
    * **Exit** (when in a trade), on bar ``t``'s price ``price[t]``: the trade's return
      ``r = side * (price[t] / entry_price - 1)`` triggers the stop-loss when ``r <= -stop_loss`` and
      the take-profit when ``r >= take_profit``; the time exit fires when ``t - entry_bar >= max_hold``;
      the signal exit fires when bar ``t`` meets the opposite side's full entry condition. The target
      becomes 0 at bar ``t``, which the engine executes at ``price[t]``: no intrabar fill at the
      stop level, so the realized trade return is ``r`` itself, which can gap beyond the stop.
    * No new entry on the bar a trade was closed unless ``reenter_on_exit_bar`` (then an
      opposite-signal exit is a reversal). A NaN ``predicted_return[t]`` is flat and closes a trade.

    Parameters
    ----------
    predicted_return : array-like or pandas object
        (n,) or (n, m) predicted return over the model's horizon, made at bar ``t`` (a predicted
        price as ``predicted_price / price - 1``); NaN during warm-up.
    price : array-like or pandas object
        (n,) or (n, m) bar prices (the prices given to the backtest), finite and > 0.
    threshold : float, default 0.0
        Long entry threshold on the predicted return, >= 0.
    short_threshold : float, optional
        Short entry threshold (the short side needs ``predicted_return < -short_threshold``),
        >= 0; defaults to ``threshold`` (symmetric).
    rsi : array-like, optional
        (n,) or (n, m) RSI (or any oscillator) computed causally; ``None`` switches the filter
        off. A NaN value blocks entries on that bar.
    rsi_long_max, rsi_short_min : float, default 70, 30
        Longs need ``rsi < rsi_long_max``; shorts need ``rsi > rsi_short_min``.
    volume : array-like, optional
        (n,) or (n, m) traded volume, finite and >= 0; ``None`` switches the filter off. Bar ``t``
        is confirmed when ``volume[t] > volume_factor * mean(volume[t - volume_window : t])``
        (the previous ``volume_window`` bars, so the first ``volume_window`` bars never confirm).
    volume_window : int, default 20
        Length of the trailing volume average, an integer >= 1.
    volume_factor : float, default 1.0
        Multiple of the trailing average that counts as confirmation, >= 0.
    stop_loss, take_profit : float, optional
        Exit levels as fractions of the entry price (0.005 = 0.5 %), > 0; ``None`` disables.
    max_hold : int, optional
        Maximum number of bars a trade is exposed, an integer >= 1; ``None`` disables.
    exit_on_opposite : bool, default True
        Close a trade when the opposite entry condition holds.
    reenter_on_exit_bar : bool, default False
        Allow a new entry on the bar a trade was closed.

    Returns
    -------
    numpy.ndarray or pandas object
        Positions in {-1, 0, 1} with the shape of ``predicted_return`` (pandas with its index and
        columns when it is pandas). Each column is computed exactly as it would be alone.

    Raises
    ------
    TypeError
        On non-numeric arrays (strings, datetimes, ...), a non-number threshold or level, a
        non-integer ``volume_window``/``max_hold`` or a non-bool flag.
    ValueError
        On misaligned or non-finite inputs, non-positive prices, out-of-range parameters or an
        unsorted time index.

    Examples
    --------
    >>> import numpy as np
    >>> price = np.array([100.0, 101.0, 99.0, 98.0, 100.0])
    >>> pred = np.array([0.02, 0.0, 0.0, 0.0, 0.0])
    >>> rules(pred, price, threshold=0.01, stop_loss=0.015)  # stopped at bar 3's price (-2 %)
    array([1., 1., 1., 0., 0.])
    """
    pred, index, columns = as_values(predicted_return, "predicted_return", ndim=(1, 2))
    n = pred.shape[0]
    m = pred.shape[1] if pred.ndim == 2 else 1
    px = _price(price, n, m, index)
    params = _Params.check(
        threshold=threshold,
        short_threshold=short_threshold,
        rsi_long_max=rsi_long_max,
        rsi_short_min=rsi_short_min,
        filter_rsi=rsi is not None,
        stop_loss=stop_loss,
        take_profit=take_profit,
        max_hold=max_hold,
        exit_on_opposite=exit_on_opposite,
        reenter_on_exit_bar=reenter_on_exit_bar,
    )
    rsi_values = np.zeros(n) if rsi is None else _aligned(rsi, "rsi", n, m, index, allow_nan=True)
    vol_ok = _volume_ok(volume, n, m, index, volume_window, volume_factor)
    out = rules_2d_nb(
        as_columns(px, m),
        as_columns(pred, m),
        as_columns(rsi_values, m),
        as_columns(vol_ok, m, np.bool_),
        *params.per_column(m),
    )
    return wrap(out if pred.ndim == 2 else out[:, 0], index, columns)


def _aligned(x: Any, name: str, n: int, m: int, index: pd.Index | None, *, allow_nan: bool) -> np.ndarray:
    """A per-bar input of :func:`rules`: n rows, 1 or m columns, aligned with ``predicted_return``."""
    values, idx, _ = as_values(x, name, n, ndim=(1, 2), allow_nan=allow_nan)
    check_same_index(index, idx, name, "predicted_return")
    check_columns(values, m, name, "predicted_return")
    return values


def _price(price: Any, n: int, m: int, index: pd.Index | None) -> np.ndarray:
    """Finite prices > 0, aligned with ``predicted_return``."""
    px = _aligned(price, "price", n, m, index, allow_nan=False)
    check_cells(px, px <= 0, "price", "values > 0", index)
    return px


def _volume_ok(volume: Any, n: int, m: int, index: pd.Index | None, window: Any, factor: Any) -> np.ndarray:
    """Volume confirmation per bar (all True without ``volume``)."""
    window = integer(window, "volume_window", minimum=1)
    factor = number(factor, "volume_factor", low=0.0)
    if volume is None:
        return np.ones(n, dtype=np.bool_)
    vol = _aligned(volume, "volume", n, m, index, allow_nan=False)
    check_cells(vol, vol < 0, "volume", "values >= 0", index)
    return _volume_confirmation(vol, window, factor)


def _volume_confirmation(volume: np.ndarray, window: int, factor: float) -> np.ndarray:
    """``volume[t] > factor * mean(volume[t - window : t])``; False for the first ``window`` bars."""
    n = volume.shape[0]
    ok = np.zeros(volume.shape, dtype=np.bool_)
    if n > window:
        trailing = sliding_window_view(volume, window, axis=0)[: n - window].mean(axis=-1)
        ok[window:] = volume[window:] > factor * trailing
    return ok
