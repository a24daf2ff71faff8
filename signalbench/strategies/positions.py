"""Position rules: model outputs aligned row by row with prices -> target positions in [-1, 1].

Every rule takes model outputs whose row ``t`` is the prediction made at bar ``t`` (NaN rows during
warm-up) and returns the target position decided at bar ``t`` from rows ``0..t`` only, ready for
:func:`signalbench.engine.backtest` without any shifting. A NaN input row means flat, never a guess.

Class probabilities are (n, k) arrays: k=2 columns ``[down, up]``, k=3 columns
``[down, stationary, up]``. numpy in gives numpy out; a pandas DataFrame in gives a pandas Series
(or DataFrame) out with the same index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from signalbench.engine.rules_kernel import hysteresis_2d_nb, rules_2d_nb, spread_hold_2d_nb
from signalbench.strategies._checks import (
    as_proba,
    as_series_values,
    check_number,
    check_same_index,
    wrap,
)

__all__ = [
    "ensemble",
    "hysteresis",
    "rules",
    "sign",
    "size_by_confidence",
    "spread_filter",
    "threshold",
]


def _c(x: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """A C-contiguous, writable array of ``dtype`` (one Numba signature per kernel, no readonly variants)."""
    return np.require(x, dtype=dtype, requirements=["C", "W"])


def _down_mid_up(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split (n, k) probabilities into down, stationary (zeros when k=2) and up columns."""
    if p.shape[1] == 2:
        return p[:, 0], np.zeros(p.shape[0]), p[:, 1]
    return p[:, 0], p[:, 1], p[:, 2]


def sign(proba: Any) -> Any:
    """Long when up is more likely than down, short otherwise (seed 004's rule).

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities, k=2 ``[down, up]`` or k=3 ``[down, stationary, up]``;
        all-NaN rows during warm-up.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions in {-1, 0, 1}: ``+1`` when ``P(up) > P(down)``, ``-1`` otherwise (a tie
        ``P(up) == P(down)`` is short, exactly as the seed's ``P(up) <= 0.5 -> short``). With three
        classes the position is ``0`` when the stationary class is the most likely (ties with it
        included). NaN rows give ``0``.

    Raises
    ------
    ValueError
        If ``proba`` is not an (n, 2) or (n, 3) array of probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> sign(np.array([[0.4, 0.6], [0.5, 0.5], [np.nan, np.nan]]))
    array([ 1., -1.,  0.])
    """
    p, index, _ = as_proba(proba)
    down, mid, up = _down_mid_up(p)
    with np.errstate(invalid="ignore"):
        pos = np.where(up > down, 1.0, -1.0)
        if p.shape[1] == 3:
            pos[mid >= np.maximum(down, up)] = 0.0
    pos[np.isnan(up)] = 0.0
    return wrap(pos, index)


def _winner_direction(p: np.ndarray, enter: float) -> np.ndarray:
    """+1/-1 where up/down is the strict most likely class with probability > enter, else 0."""
    down, mid, up = _down_mid_up(p)
    with np.errstate(invalid="ignore"):
        long_ = (up > enter) & (up > down) & (up > mid)
        short = (down > enter) & (down > up) & (down > mid)
    return long_.astype(np.float64) - short.astype(np.float64)


def _check_enter(enter: Any, k: int) -> float:
    return check_number(enter, "enter", low=1.0 / k, high=1.0, high_open=True)


def threshold(proba: Any, enter: float = 0.55) -> Any:
    """Trade only when the winning class is confident enough (seed 000's confidence filter).

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities (k=2 ``[down, up]``, k=3 ``[down, stationary, up]``).
    enter : float, default 0.55
        Confidence level in ``[1/k, 1)``.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions: ``+1`` when up is the strictly most likely class and ``P(up) > enter``,
        ``-1`` when down is and ``P(down) > enter``, ``0`` otherwise (including a winning
        stationary class, ties for the top and NaN rows).

    Raises
    ------
    ValueError
        If ``proba`` is not a probability array or ``enter`` is outside ``[1/k, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> threshold(np.array([[0.3, 0.7], [0.48, 0.52], [0.6, 0.4]]), enter=0.55)
    array([ 1.,  0., -1.])
    """
    p, index, _ = as_proba(proba)
    enter = _check_enter(enter, p.shape[1])
    return wrap(_winner_direction(p, enter), index)


def hysteresis(proba: Any, enter: float = 0.55, exit: float = 0.5) -> Any:  # noqa: A002
    """Enter on confidence above ``enter``; hold until confidence falls below ``exit``.

    Fewer round trips than :func:`threshold` at the same ``enter``: the usual cure for cost drag.

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities (k=2 ``[down, up]``, k=3 ``[down, stationary, up]``).
    enter : float, default 0.55
        Entry confidence in ``[1/k, 1)``, as in :func:`threshold`.
    exit : float, default 0.5
        Holding confidence in ``[0, enter)``.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions in {-1, 0, 1}. At bar ``t``: if :func:`threshold` with ``enter`` gives a
        direction, the position is that direction (an entry, a hold or a reversal); otherwise an
        open long is held while ``P(up) >= exit`` and an open short while ``P(down) >= exit``, and
        closed when its class probability falls below ``exit``. A NaN row is flat and closes the
        open position (a new entry is needed afterwards).

    Raises
    ------
    ValueError
        If ``proba`` is not a probability array, ``enter`` is outside ``[1/k, 1)``, or
        ``exit`` is not below ``enter``.

    Examples
    --------
    >>> import numpy as np
    >>> p_up = np.array([0.5, 0.6, 0.53, 0.51, 0.49, 0.53])
    >>> hysteresis(np.column_stack([1 - p_up, p_up]), enter=0.55, exit=0.5)
    array([0., 1., 1., 1., 0., 0.])
    """
    p, index, _ = as_proba(proba)
    enter = _check_enter(enter, p.shape[1])
    exit_ = check_number(exit, "exit", low=0.0)
    if exit_ >= enter:
        raise ValueError(f"exit must be below enter (got enter={enter:g}, exit={exit_:g})")
    down, mid, up = _down_mid_up(p)
    pos = hysteresis_2d_nb(_c(down[:, None]), _c(mid[:, None]), _c(up[:, None]), enter, exit_)[:, 0]
    return wrap(pos, index)


def size_by_confidence(proba: Any, *, scale: float = 1.0, min_edge: float = 0.0) -> Any:
    """Exposure proportional to the edge ``P(up) - P(down)``, capped at 1 in absolute value.

    With ``scale=1`` and two classes this is the Kelly fraction of an even-money bet
    (``p - q = 2 P(up) - 1``).

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities (k=2 ``[down, up]``, k=3 ``[down, stationary, up]``).
    scale : float, default 1.0
        Exposure per unit of edge, > 0; the result is clipped to [-1, 1].
    min_edge : float, default 0.0
        Dead zone in ``[0, 1)``: bars with ``|P(up) - P(down)| <= min_edge`` are flat.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions ``clip(scale * (P(up) - P(down)), -1, 1)`` outside the dead zone, ``0``
        inside it and on NaN rows.

    Raises
    ------
    ValueError
        If ``proba`` is not a probability array or ``scale``/``min_edge`` are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> size_by_confidence(np.array([[0.2, 0.8], [0.55, 0.45], [0.5, 0.5]]), scale=2.0)
    array([ 1. , -0.2,  0. ])
    """
    p, index, _ = as_proba(proba)
    scale = check_number(scale, "scale", low=0.0, low_open=True)
    min_edge = check_number(min_edge, "min_edge", low=0.0, high=1.0, high_open=True)
    down, _, up = _down_mid_up(p)
    edge = up - down
    pos = np.clip(scale * edge, -1.0, 1.0)
    with np.errstate(invalid="ignore"):
        pos[~(np.abs(edge) > min_edge)] = 0.0  # dead zone and NaN rows
    pos += 0.0  # no negative zeros
    return wrap(pos, index)


def spread_filter(position: Any, spread: Any, max_spread: float, *, when_wide: str = "hold") -> Any:
    """Trade only while the quoted (or predicted) spread is below a bound (seed 001's idea).

    Parameters
    ----------
    position : array-like, pandas.Series or pandas.DataFrame
        (n,) or (n, m) target positions in [-1, 1] from another rule. NaN means no prediction: the
        target is flat on that bar whatever the spread (a NaN row means flat, never a guess), and
        ``"hold"`` holds that flat position until the next tradable bar.
    spread : array-like or pandas.Series or pandas.DataFrame
        (n,) spread per bar (shared by all columns) or (n, m) per column, in the units of
        ``max_spread``; the value at bar ``t`` must be known at ``t`` (a quote, or a model's
        prediction made at ``t``). NaN means unknown: not tradable.
    max_spread : float
        The bound, > 0: bar ``t`` is tradable when ``spread[t] < max_spread``.
    when_wide : {"hold", "flat"}, default "hold"
        What happens on a bar that is not tradable. ``"hold"``: no trade, the last position
        taken on a tradable bar is kept (flat before the first tradable bar), so a wide spread is
        never paid. ``"flat"``: the target is 0 (closing a position pays the wide spread).

    Returns
    -------
    numpy.ndarray or pandas object
        Positions with the shape (and pandas labels) of ``position``.

    Raises
    ------
    ValueError
        On positions outside [-1, 1], a misaligned or infinite ``spread``, a non-positive
        ``max_spread`` or an unknown ``when_wide``.

    Examples
    --------
    >>> import numpy as np
    >>> pos = np.array([1.0, 1.0, -1.0, -1.0, 0.0])
    >>> spread_filter(pos, np.array([1.0, 3.0, 3.0, 1.0, 3.0]), max_spread=2.0)
    array([ 1.,  1.,  1., -1., -1.])
    """
    pos, index, columns = as_series_values(position, "position", allow_2d=True)
    if (np.abs(pos) > 1).any():
        raise ValueError("position must lie in [-1, 1]")
    n = pos.shape[0]
    spr, spr_index, _ = as_series_values(spread, "spread", n, allow_2d=True)
    check_same_index(index, spr_index, "spread")
    max_spread = check_number(max_spread, "max_spread", low=0.0, low_open=True)
    if when_wide not in ("hold", "flat"):
        raise ValueError(f"when_wide must be 'hold' or 'flat', got {when_wide!r}")
    pos2 = pos if pos.ndim == 2 else pos[:, None]
    missing = np.isnan(pos2)
    pos2 = np.where(missing, 0.0, pos2)
    if spr.ndim == 2 and spr.shape[1] != pos2.shape[1]:
        raise ValueError(f"spread has {spr.shape[1]} columns but position has {pos2.shape[1]}")
    spr2 = spr if spr.ndim == 2 else spr[:, None]
    with np.errstate(invalid="ignore"):
        tradable = (spr2 < max_spread) | missing
    if when_wide == "flat":
        out = np.where(tradable, pos2, 0.0)
    else:
        out = spread_hold_2d_nb(_c(pos2), _c(tradable, np.bool_))
    out = out + 0.0
    return wrap(out if pos.ndim == 2 else out[:, 0], index, columns)


def ensemble(probas: Any, weights: Any = None, method: str = "mean") -> Any:
    """Combine several models' class probabilities into one "master signal" (seed 003).

    Parameters
    ----------
    probas : sequence or mapping of array-like / pandas.DataFrame
        Two or more (n, k) probability arrays with the same n and k, aligned row by row.
    weights : sequence or mapping of float, optional
        One non-negative weight per model (a mapping must have the keys of ``probas``), not all
        zero; normalised to sum to 1. Default: equal weights.
    method : {"mean", "vote"}, default "mean"
        ``"mean"``: the weighted average of the probability rows. ``"vote"``: each model votes
        for its most likely class (a tie splits its vote equally between the tied classes) and
        the result is each class's weighted share of the votes.

    Returns
    -------
    numpy.ndarray or pandas.DataFrame
        (n, k) probabilities (rows sum to 1), usable by every rule in this module. A row is NaN
        when any model's row is NaN: the ensemble waits for its slowest member's warm-up rather
        than guess with fewer models. pandas out (with the first pandas input's index and columns)
        when any input is pandas.

    Raises
    ------
    ValueError
        On fewer than two models, invalid probabilities, mismatched shapes or indexes, bad
        weights or an unknown method.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0.2, 0.8], [0.6, 0.4]])
    >>> b = np.array([[0.6, 0.4], [0.7, 0.3]])
    >>> ensemble([a, b])
    array([[0.4 , 0.6 ],
           [0.65, 0.35]])
    >>> ensemble([a, b, b], method="vote")
    array([[0.66666667, 0.33333333],
           [1.        , 0.        ]])
    """
    if isinstance(probas, Mapping):
        names = list(probas)
        members = [probas[key] for key in names]
    elif isinstance(probas, Sequence) and not isinstance(probas, str):
        names = list(range(len(probas)))
        members = list(probas)
    else:
        raise ValueError("probas must be a list (or dict) of (n, k) probability arrays")
    if len(members) < 2:
        raise ValueError(f"probas needs at least two models, got {len(members)}")
    if method not in ("mean", "vote"):
        raise ValueError(f"method must be 'mean' or 'vote', got {method!r}")

    arrays = []
    index = columns = None
    for name, member in zip(names, members):
        p, idx, cols = as_proba(member, f"probas[{name!r}]")
        if arrays and p.shape != arrays[0].shape:
            raise ValueError(f"probas[{name!r}] has shape {p.shape}, expected {arrays[0].shape} like the first model")
        if idx is not None:
            if index is None:
                index, columns = idx, cols
            else:
                check_same_index(index, idx, f"probas[{name!r}]")
        arrays.append(p)

    w = _ensemble_weights(weights, names)
    stack = np.stack(arrays)  # (n_models, n, k)
    if method == "vote":
        top = stack.max(axis=2, keepdims=True)
        with np.errstate(invalid="ignore"):
            votes = (stack == top).astype(np.float64)
            votes /= votes.sum(axis=2, keepdims=True)
        votes[np.isnan(stack)] = np.nan
        stack = votes
    out = np.tensordot(w, stack, axes=1)  # (n, k); NaN wherever any model's row is NaN
    return out if index is None else pd.DataFrame(out, index=index, columns=columns)


def _ensemble_weights(weights: Any, names: list[Any]) -> np.ndarray:
    if weights is None:
        return np.full(len(names), 1.0 / len(names))
    if isinstance(weights, Mapping):
        if set(weights) != set(names):
            raise ValueError(f"weights must have the keys of probas {names}, got {list(weights)}")
        weights = [weights[key] for key in names]
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"weights must be numbers, got {weights!r}") from None
    if w.shape != (len(names),):
        raise ValueError(f"weights must have one value per model ({len(names)}), got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be finite, non-negative and not all zero, got {w.tolist()}")
    return w / w.sum()


def _volume_confirmation(volume: np.ndarray, window: int, factor: float) -> np.ndarray:
    """``volume[t] > factor * mean(volume[t - window : t])``; False for the first ``window`` bars."""
    n = volume.shape[0]
    ok = np.zeros(volume.shape, dtype=np.bool_)
    if n > window:
        trailing = sliding_window_view(volume, window, axis=0)[: n - window].mean(axis=-1)
        ok[window:] = volume[window:] > factor * trailing
    return ok


def _column(values: np.ndarray, m: int, name: str, dtype: Any = np.float64) -> np.ndarray:
    """(n,) or (n, m) -> a C-contiguous (n, m) array."""
    if values.ndim == 1:
        values = np.broadcast_to(values[:, None], (values.shape[0], m))
    elif values.shape[1] != m:
        raise ValueError(f"{name} has {values.shape[1]} columns but predicted_return has {m}")
    return _c(values, dtype)


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
    """Seed 002's trading logic: filtered entries; stop-loss, take-profit, time and signal exits.

    The state machine runs in the Numba kernel :func:`signalbench.engine.rules_kernel.rules_1d_nb`
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
        (n,) or (n, m) predicted return over the model's horizon, made at bar ``t`` (seed 002's
        predicted price as ``predicted_price / price - 1``); NaN during warm-up.
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
        Length of the trailing volume average, >= 1.
    volume_factor : float, default 1.0
        Multiple of the trailing average that counts as confirmation, >= 0.
    stop_loss, take_profit : float, optional
        Exit levels as fractions of the entry price (0.005 = 0.5 %), > 0; ``None`` disables.
    max_hold : int, optional
        Maximum number of bars a trade is exposed, >= 1; ``None`` disables.
    exit_on_opposite : bool, default True
        Close a trade when the opposite entry condition holds.
    reenter_on_exit_bar : bool, default False
        Allow a new entry on the bar a trade was closed.

    Returns
    -------
    numpy.ndarray or pandas object
        Positions in {-1, 0, 1} with the shape of ``predicted_return`` (pandas with its index and
        columns when it is pandas).

    Raises
    ------
    ValueError
        On misaligned or non-finite inputs, non-positive prices or out-of-range parameters.

    Examples
    --------
    >>> import numpy as np
    >>> price = np.array([100.0, 101.0, 99.0, 98.0, 100.0])
    >>> pred = np.array([0.02, 0.0, 0.0, 0.0, 0.0])
    >>> rules(pred, price, threshold=0.01, stop_loss=0.015)  # stopped at bar 3's price (-2 %)
    array([1., 1., 1., 0., 0.])
    """
    pred, index, columns = as_series_values(predicted_return, "predicted_return", allow_2d=True)
    n = pred.shape[0]
    pred2 = pred if pred.ndim == 2 else pred[:, None]
    m = pred2.shape[1]

    px, px_index, _ = as_series_values(price, "price", n, allow_nan=False, allow_2d=True)
    check_same_index(index, px_index, "price")
    if (px <= 0).any():
        raise ValueError("price must be > 0")

    thr_long = check_number(threshold, "threshold", low=0.0)
    thr_short = thr_long if short_threshold is None else check_number(short_threshold, "short_threshold", low=0.0)
    rsi_hi = check_number(rsi_long_max, "rsi_long_max")
    rsi_lo = check_number(rsi_short_min, "rsi_short_min")
    if rsi is None:
        rsi_values = np.zeros(n)
        rsi_hi, rsi_lo = np.inf, -np.inf
    else:
        rsi_values, rsi_index, _ = as_series_values(rsi, "rsi", n, allow_2d=True)
        check_same_index(index, rsi_index, "rsi")

    window = check_number(volume_window, "volume_window", low=1.0)
    if window != int(window):
        raise ValueError(f"volume_window must be an integer, got {volume_window!r}")
    volume_window = int(window)
    volume_factor = check_number(volume_factor, "volume_factor", low=0.0)
    if volume is None:
        vol_ok = np.ones(n, dtype=np.bool_)
    else:
        vol, vol_index, _ = as_series_values(volume, "volume", n, allow_nan=False, allow_2d=True)
        check_same_index(index, vol_index, "volume")
        if (vol < 0).any():
            raise ValueError("volume must be >= 0")
        vol_ok = _volume_confirmation(vol, volume_window, volume_factor)

    sl = np.inf if stop_loss is None else check_number(stop_loss, "stop_loss", low=0.0, low_open=True)
    tp = np.inf if take_profit is None else check_number(take_profit, "take_profit", low=0.0, low_open=True)
    if max_hold is None:
        hold = np.iinfo(np.int64).max
    else:
        if isinstance(max_hold, bool) or not isinstance(max_hold, (int, np.integer)) or max_hold < 1:
            raise ValueError(f"max_hold must be an integer >= 1 or None, got {max_hold!r}")
        hold = int(max_hold)
    for flag_name, flag in (("exit_on_opposite", exit_on_opposite), ("reenter_on_exit_bar", reenter_on_exit_bar)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{flag_name} must be a bool, got {flag!r}")

    def per_column(value: float, dtype: Any = np.float64) -> np.ndarray:
        return np.full(m, value, dtype=dtype)

    out = rules_2d_nb(
        _column(px, m, "price"),
        _c(pred2),
        _column(rsi_values, m, "rsi"),
        _column(vol_ok, m, "volume", np.bool_),
        per_column(thr_long),
        per_column(thr_short),
        per_column(rsi_hi),
        per_column(rsi_lo),
        per_column(sl),
        per_column(tp),
        per_column(hold, np.int64),
        per_column(bool(exit_on_opposite), np.bool_),
        per_column(bool(reenter_on_exit_bar), np.bool_),
    )
    return wrap(out if pred.ndim == 2 else out[:, 0], index, columns)
