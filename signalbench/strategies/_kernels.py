"""Path-dependent position kernels of the strategy rules (Numba, NumPy in, NumPy out; private).

The kernels here turn per-bar inputs into target positions whose value at bar ``t`` depends on the
path so far (an open trade, its entry price, how long it has been held). They are strategy rules, not
engine code: they live with the rules that call them and import nothing from the engine, so a position
rule never pulls in the oracle or the selection statistics (``docs/architecture.md``). They follow the
engine's conventions exactly:

* Time is axis 0, columns are independent (assets, models or parameter sets); 2-D kernels run the
  columns in parallel with ``prange`` and each column is handled by a ``_1d_nb`` kernel.
* ``out[t]`` is the *target* position decided at bar ``t`` from inputs up to and including row ``t``.
  The engine executes it at bar ``t``'s price and earns ``price[t] -> price[t + 1]`` with it, so a
  kernel never reads row ``t + 1`` or later.

Entry and exit rules, :func:`rules_2d_nb` / :func:`rules_1d_nb`
---------------------------------------------------------------
Per column, at each bar ``t`` (``pos`` is the position held from ``t - 1``; ``entry_price`` and
``entry_bar`` belong to the open trade):

1. **Missing prediction.** If ``pred[t]`` is NaN the target is flat (``out[t] = 0``): a NaN input row
   means flat, never a guess. An open trade is closed at bar ``t``.
2. **Exits** (only when a trade is open). The trade's return so far is measured on bar prices,
   ``r = pos * (price[t] / entry_price - 1)``, i.e. from the entry bar's price to bar ``t``'s price.
   The trade is closed at bar ``t`` (``out[t] = 0``) when any of these holds:

   * stop-loss: ``r <= -stop_loss``;
   * take-profit: ``r >= take_profit``;
   * maximum holding time: ``t - entry_bar >= max_hold`` (a trade is exposed for at most
     ``max_hold`` bars: entered at bar ``e``, it is flat again at bar ``e + max_hold``);
   * opposite signal (when ``exit_on_opposite``): bar ``t`` satisfies the full entry condition of the
     opposite side (step 3).

   **Which price triggers, and where it exits.** A stop or target is checked on bar ``t``'s price
   (the close the engine marks to) and the exit happens at that same price: the target position
   becomes 0 at bar ``t``, which the engine executes at ``price[t]``. Nothing between two bars is
   seen, so there is no intrabar fill at the stop level: the realized trade return (before costs) is
   exactly ``pos * (price[t] / entry_price - 1)``, which can be worse than ``-stop_loss`` (a gap
   through the stop) or better than ``take_profit``.
3. **Entries** (only when flat, and, if a trade was closed at bar ``t``, only when
   ``reenter_on_exit_bar``; otherwise the earliest new entry is bar ``t + 1``):

   * long when ``pred[t] > threshold_long`` and ``rsi[t] < rsi_long_max`` and ``volume_ok[t]``;
   * short when ``pred[t] < -threshold_short`` and ``rsi[t] > rsi_short_min`` and ``volume_ok[t]``.

   The entry price is ``price[t]`` and the entry bar is ``t``. No exit is tested on the entry bar.
   A NaN ``rsi[t]`` fails both RSI comparisons, so no entry happens on it (pass ``rsi_long_max = inf``
   and ``rsi_short_min = -inf`` to switch the filter off; NaN still blocks, so pass a finite dummy).
   Thresholds are >= 0 (checked by the Python wrapper), so a bar cannot be both long and short.

Only one position (``-1``, ``0`` or ``+1``) is open at a time. Disabled exits are passed as ``inf``
(stop-loss, take-profit) or a huge ``max_hold``; the Python wrapper
:func:`signalbench.strategies.rules` validates everything and builds these arguments.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "hysteresis_2d_nb",
    "rules_1d_nb",
    "rules_2d_nb",
    "spread_hold_2d_nb",
]


@njit(cache=True)
def _entry_side_nb(
    pred: float,
    rsi: float,
    volume_ok: bool,
    threshold_long: float,
    threshold_short: float,
    rsi_long_max: float,
    rsi_short_min: float,
) -> int:
    """Return +1 (long entry), -1 (short entry) or 0 for one bar; NaN inputs give 0."""
    if not volume_ok:
        return 0
    if pred > threshold_long and rsi < rsi_long_max:
        return 1
    if pred < -threshold_short and rsi > rsi_short_min:
        return -1
    return 0


@njit(cache=True)
def rules_1d_nb(
    price: np.ndarray,
    pred: np.ndarray,
    rsi: np.ndarray,
    volume_ok: np.ndarray,
    threshold_long: float,
    threshold_short: float,
    rsi_long_max: float,
    rsi_short_min: float,
    stop_loss: float,
    take_profit: float,
    max_hold: int,
    exit_on_opposite: bool,
    reenter_on_exit_bar: bool,
) -> np.ndarray:
    """The entry/exit state machine for one column (see the module docstring).

    Parameters
    ----------
    price : np.ndarray
        (n,) bar prices, finite and > 0.
    pred : np.ndarray
        (n,) predicted returns; NaN means no prediction (flat).
    rsi : np.ndarray
        (n,) oscillator values for the RSI filter.
    volume_ok : np.ndarray
        (n,) booleans: volume confirmation at each bar.
    threshold_long, threshold_short : float
        Entry thresholds (>= 0) on the predicted return.
    rsi_long_max, rsi_short_min : float
        Longs need ``rsi < rsi_long_max``, shorts need ``rsi > rsi_short_min``.
    stop_loss, take_profit : float
        Exit levels as fractions of the entry price (``inf`` disables).
    max_hold : int
        Maximum number of bars a trade is held (>= 1).
    exit_on_opposite : bool
        Close a trade on the opposite side's entry condition.
    reenter_on_exit_bar : bool
        Allow a new entry on the bar a trade was closed (a reversal, for an opposite-signal exit).

    Returns
    -------
    np.ndarray
        (n,) float64 target positions in {-1, 0, 1}.
    """
    n = price.shape[0]
    out = np.zeros(n, dtype=np.float64)
    pos = 0
    entry_price = 0.0
    entry_bar = 0
    for t in range(n):
        p = pred[t]
        if np.isnan(p):
            pos = 0
            out[t] = 0.0
            continue
        side = _entry_side_nb(p, rsi[t], volume_ok[t], threshold_long, threshold_short, rsi_long_max, rsi_short_min)
        exited = False
        if pos != 0:
            r = pos * (price[t] / entry_price - 1.0)
            if r <= -stop_loss or r >= take_profit or t - entry_bar >= max_hold or (exit_on_opposite and side == -pos):
                pos = 0
                exited = True
        if pos == 0 and side != 0 and (reenter_on_exit_bar or not exited):
            pos = side
            entry_price = price[t]
            entry_bar = t
        out[t] = pos
    return out


@njit(cache=True, parallel=True)
def rules_2d_nb(
    price: np.ndarray,
    pred: np.ndarray,
    rsi: np.ndarray,
    volume_ok: np.ndarray,
    threshold_long: np.ndarray,
    threshold_short: np.ndarray,
    rsi_long_max: np.ndarray,
    rsi_short_min: np.ndarray,
    stop_loss: np.ndarray,
    take_profit: np.ndarray,
    max_hold: np.ndarray,
    exit_on_opposite: np.ndarray,
    reenter_on_exit_bar: np.ndarray,
) -> np.ndarray:
    """Run :func:`rules_1d_nb` on every column in parallel.

    Parameters
    ----------
    price, pred, rsi, volume_ok : np.ndarray
        (n, m) arrays, one column per strategy (broadcast views with zero strides are fine).
    threshold_long, threshold_short, rsi_long_max, rsi_short_min, stop_loss, take_profit : np.ndarray
        (m,) float64 per-column parameters.
    max_hold : np.ndarray
        (m,) int64 per-column maximum holding times.
    exit_on_opposite, reenter_on_exit_bar : np.ndarray
        (m,) booleans per column.

    Returns
    -------
    np.ndarray
        (n, m) float64 target positions in {-1, 0, 1}.
    """
    n, m = pred.shape
    out = np.empty((n, m), dtype=np.float64)
    for j in prange(m):
        out[:, j] = rules_1d_nb(
            price[:, j],
            pred[:, j],
            rsi[:, j],
            volume_ok[:, j],
            threshold_long[j],
            threshold_short[j],
            rsi_long_max[j],
            rsi_short_min[j],
            stop_loss[j],
            take_profit[j],
            max_hold[j],
            exit_on_opposite[j],
            reenter_on_exit_bar[j],
        )
    return out


@njit(cache=True)
def _hysteresis_1d_nb(
    p_down: np.ndarray, p_mid: np.ndarray, p_up: np.ndarray, enter: float, exit_: float
) -> np.ndarray:
    n = p_up.shape[0]
    out = np.zeros(n, dtype=np.float64)
    pos = 0
    for t in range(n):
        d = p_down[t]
        s = p_mid[t]
        u = p_up[t]
        if np.isnan(d) or np.isnan(s) or np.isnan(u):
            pos = 0
        elif u > enter and u > d and u > s:
            pos = 1
        elif d > enter and d > u and d > s:
            pos = -1
        elif pos == 1 and u < exit_:
            pos = 0
        elif pos == -1 and d < exit_:
            pos = 0
        out[t] = pos
    return out


@njit(cache=True, parallel=True)
def hysteresis_2d_nb(p_down: np.ndarray, p_mid: np.ndarray, p_up: np.ndarray, enter: float, exit_: float) -> np.ndarray:
    """Confidence hysteresis: enter above ``enter``, hold until confidence falls below ``exit_``.

    At bar ``t``: a NaN row is flat (and forgets the open position); else if a direction is the
    strict winner (more likely than every other class) with probability ``> enter``, the position
    is that direction (entry, hold or reversal); else an open long is kept while ``p_up >= exit_``
    and an open short while ``p_down >= exit_``, and is closed otherwise.

    Parameters
    ----------
    p_down, p_mid, p_up : np.ndarray
        (n, m) probabilities of the down, stationary and up classes (NaN rows allowed; pass zeros
        for ``p_mid`` with two classes).
    enter, exit_ : float
        Entry and exit confidence levels, ``exit_ < enter``.

    Returns
    -------
    np.ndarray
        (n, m) float64 target positions in {-1, 0, 1}.
    """
    n, m = p_up.shape
    out = np.empty((n, m), dtype=np.float64)
    for j in prange(m):
        out[:, j] = _hysteresis_1d_nb(p_down[:, j], p_mid[:, j], p_up[:, j], enter, exit_)
    return out


@njit(cache=True)
def _spread_hold_1d_nb(position: np.ndarray, tradable: np.ndarray) -> np.ndarray:
    n = position.shape[0]
    out = np.zeros(n, dtype=np.float64)
    held = 0.0
    for t in range(n):
        if tradable[t]:
            held = position[t]
        out[t] = held
    return out


@njit(cache=True, parallel=True)
def spread_hold_2d_nb(position: np.ndarray, tradable: np.ndarray) -> np.ndarray:
    """Follow ``position`` on tradable bars and keep the last traded position on the others.

    Parameters
    ----------
    position : np.ndarray
        (n, m) finite target positions.
    tradable : np.ndarray
        (n, m) booleans; ``False`` freezes the position at its last tradable value (flat before
        the first tradable bar).

    Returns
    -------
    np.ndarray
        (n, m) float64 target positions.
    """
    n, m = position.shape
    out = np.empty((n, m), dtype=np.float64)
    for j in prange(m):
        out[:, j] = _spread_hold_1d_nb(position[:, j], tradable[:, j])
    return out
