"""Synthetic tick data with a known, tunable edge.

:func:`synthetic_ticks` generates ticks with regime-switching volatility, tick-size rounding, volume, spread and order
imbalance, fast and honestly. A common way to build such data computes the imbalance of row ``t`` from the move
``t -> t+1``: a look-ahead that correlates about 0.56 with the sign of the next move, and a model trained on it seems
to predict the market. Here the only information about the next mid move is a statistic known at ``t``, its strength
is one parameter (``edge``) and the generator returns the Bayes-optimal accuracy of predicting the next move from it,
so a model can be compared with the best possible one. ``leaky=True`` builds the ``imbalance`` column with that
look-ahead on purpose, so that leakage checks can be shown to catch it.

The model, tick by tick (all random draws come from ``numpy.random.default_rng(seed)``):

1. **Regime.** A Markov chain over volatility regimes (default per-tick volatilities 1e-4, 3e-4, 5e-4): with
   probability ``switch_prob`` per tick a new regime is drawn with probabilities ``regime_probs`` (it may redraw the
   same one); the chain starts in regime 0. The regime is latent: it is returned on the result, not in the frame.
2. **Book.** Best bid and ask lie on the tick grid, so the mid lies on the half-tick grid. The spread in ticks is
   ``1 + regime + round(Exponential(0.5))`` (rounded to the grid), raised by one tick when its
   parity does not match the mid's (a mid on a whole tick needs an even spread). Level sizes are
   ``1 + floor(Exponential(size_scale))``, independently per side and level; level ``j > 1`` sits ``j - 1`` ticks
   behind level 1.
3. **Trades.** Every tick carries one trade with sign ``+1`` (buyer-initiated, at the ask) or ``-1``
   (seller-initiated, at the bid) with probability 1/2 each, and volume ``1 + floor(Exponential(100 + 50 * regime))``
   (never zero). ``price`` is the trade price.
4. **Information.** A statistic ``x[t]`` in [-1, 1], computed only from columns of rows up to ``t``:

   - ``signal="queue_imbalance"`` (default): ``x[t] = (bid_size_1[t] - ask_size_1[t]) / (bid_size_1[t] +
     ask_size_1[t])``, the level-1 depth imbalance of the book at ``t`` (queue imbalance, Gould and Bonart 2016);
     it equals :func:`signalbench.data.features.depth_imbalance` at level 1. As the two sizes are i.i.d. and
     nearly exponential, ``x`` is close to uniform on [-1, 1].
   - ``signal="trade_flow"``: ``x[t] = sum(trade_sign * volume) / sum(volume)`` over the last ``flow_window`` ticks of
     the same day, i.e. :func:`signalbench.data.features.trade_imbalance` with ``window=flow_window``; ``x[t] = 0``
     (no information) during the first ``flow_window - 1`` ticks of each day, where that feature is NaN. A model
     must look back over a window to use it.

5. **Next mid move.** The move from ``t`` to ``t+1`` is ``direction * k`` half ticks with
   ``P(direction = +1 | everything known at t) = p_up[t] = (1 + edge * x[t]) / 2`` and, independently of the
   direction and of ``x``, ``k = round(|N(0, 1)| * sigma[regime[t+1]] * mid[t] / (tick_size / 2))`` (zero when the
   volatility is small relative to the tick: the mid often does not move). Moves that would push the best bid
   below one tick are cancelled (counted in ``n_floored``; with the defaults this does not happen). There is no
   mean-reversion term on purpose: it would be a second, undocumented source of predictability.

**The label and the Bayes-optimal accuracy.** The label is the direction of the next mid move,
:func:`signalbench.data.labels.direction` with ``horizon=1`` and threshold 0 (0 = down, 1 = stationary, 2 = up, NaN
across a day boundary and at the end). On the rows where the mid moves (label 0 or 2) the Bayes-optimal rule is
"up if ``p_up[t] > 1/2``", whose expected accuracy given the information is ``max(p_up, 1 - p_up) = (1 + edge *
|x[t]|) / 2``. The returned ``bayes_accuracy`` is its mean over those rows: the expected accuracy of the best
possible predictor on this sample, about ``1/2 + edge * E|x| / 2`` (``~ 1/2 + edge / 4`` for the queue imbalance).
The realised accuracy of the Bayes rule differs from it only by sampling error, ``~ sqrt(a (1 - a) / n_moves)``.
With ``edge=0`` nothing known at ``t`` predicts the next move and ``bayes_accuracy`` is exactly 1/2. Whether the mid
moves at all (the stationary class) depends on the latent regime only and is not part of this number.

**Leaky mode.** ``leaky=True`` replaces the ``imbalance`` column by
``clip(0.3 * N(0, 1) + 0.2 * sign(mid[t+1] - mid[t]), -1, 1)`` (the last row repeats the one before). Nothing else
changes, in particular not ``bayes_accuracy``: a model that beats it using ``imbalance`` has
looked ahead.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from signalbench._validation import boolean, expected, integer, number, numeric_array
from signalbench.data._inputs import name_choice

__all__ = ["SyntheticTicks", "synthetic_ticks"]

_SIGNALS = ("queue_imbalance", "trade_flow")
_SESSION_OPEN = pd.Timedelta(hours=9, minutes=30)
_SESSION_NS = int(pd.Timedelta(hours=6, minutes=30).value)


class SyntheticTicks(NamedTuple):
    """What :func:`synthetic_ticks` returns; unpacks as ``data, bayes_accuracy, p_up, regime, n_moves, n_floored``.

    Attributes
    ----------
    data : pandas.DataFrame
        The ticks, indexed by a strictly increasing DatetimeIndex, with columns ``price`` (trade price), ``volume``,
        ``trade_sign`` (+1 buyer-, -1 seller-initiated), ``spread`` (dollars), ``imbalance`` (the information
        statistic ``x``, or the look-ahead column with ``leaky=True``), ``ask_price_i, ask_size_i, bid_price_i,
        bid_size_i`` for ``i = 1..levels`` (the LOBSTER loader's names, dollars and shares) and ``day`` (the trading
        date, a ``datetime64`` date at midnight).
    bayes_accuracy : float
        Expected accuracy of the Bayes-optimal prediction of the next mid move's direction from what is known at
        ``t``, averaged over the rows whose mid moves next within the same day (see the module docstring).
    p_up : numpy.ndarray
        ``P(next mid move is up | it is non-zero, information at t)`` for every row, float64; NaN on the last row
        (no next move is generated).
    regime : numpy.ndarray
        The latent volatility regime of every row (int8).
    n_moves : int
        Number of rows whose next mid move is non-zero and in the same day (the rows ``bayes_accuracy`` averages).
    n_floored : int
        Number of moves cancelled because they would have pushed the best bid below one tick.
    """

    data: pd.DataFrame
    bayes_accuracy: float
    p_up: np.ndarray
    regime: np.ndarray
    n_moves: int
    n_floored: int


@njit(cache=True)
def _fit_spread(mid_half, s_star):
    """Spread in ticks for a mid in half ticks: parity matched, narrowed (by 2) while the bid would be < 1 tick."""
    s = s_star
    if (mid_half - s) % 2 != 0:
        s += 1
    while mid_half - s < 2 and s > 2:
        s -= 2
    return s


@njit(cache=True)
def _mid_path_nb(mid0_half, direction, abs_z, sigma_next, s_star, half_tick):
    """Mid (half ticks) and spread (ticks) path; move t -> t+1 is direction[t] * k[t] half ticks."""
    n = abs_z.shape[0]
    mid = np.empty(n, np.int64)
    spread = np.empty(n, np.int64)
    mid[0] = mid0_half
    spread[0] = _fit_spread(mid0_half, s_star[0])
    floored = 0
    for t in range(n - 1):
        price = mid[t] * half_tick
        k = np.int64(np.round(abs_z[t] * sigma_next[t] * price / half_tick))
        m_new = mid[t] + direction[t] * k
        s = _fit_spread(m_new, s_star[t + 1])
        if m_new - s < 2:  # best bid (in half ticks: mid - spread) would fall below one tick
            floored += 1
            m_new = mid[t]
            s = _fit_spread(m_new, s_star[t + 1])
        mid[t + 1] = m_new
        spread[t + 1] = s
    return mid, spread, floored


def _day_starts(n, ticks_per_day):
    """First row of each row's day (int64 array) and the day number of each row."""
    day_no = np.arange(n, dtype=np.int64) // ticks_per_day
    return day_no * ticks_per_day, day_no


def _timestamps(rng, n, ticks_per_day, start):
    """Strictly increasing event times: exponential gaps, each day's ticks spread over 09:30-16:00."""
    day_first, day_no = _day_starts(n, ticks_per_day)
    gaps = rng.exponential(1.0, size=n)
    cum = np.cumsum(gaps)
    base = np.where(day_first > 0, cum[np.maximum(day_first - 1, 0)], 0.0)
    within = cum - base  # cumulative gap inside the day, > 0
    n_days = int(day_no[-1]) + 1
    day_total = np.empty(n_days)
    last_rows = np.minimum((np.arange(n_days) + 1) * ticks_per_day, n) - 1
    day_total[:] = within[last_rows] + 1.0  # leave room after the last tick
    m = np.minimum(ticks_per_day, n)
    frac = within / day_total[day_no]
    pos = np.arange(n, dtype=np.int64) - day_first
    offset_ns = np.floor(frac * (_SESSION_NS - m)).astype(np.int64) + pos  # + pos: strictly increasing
    days = pd.bdate_range(pd.Timestamp(start).normalize(), periods=n_days)
    day_ns = days.as_unit("ns").asi8
    stamps = day_ns[day_no] + _SESSION_OPEN.value + offset_ns
    index = pd.DatetimeIndex(stamps.view("datetime64[ns]"), name="time")
    day_col = days.as_unit("ns")[day_no]
    return index, np.asarray(day_col)


class _Params(NamedTuple):
    """The checked arguments of :func:`synthetic_ticks`."""

    n: int
    seed: int
    edge: float
    signal: str
    flow_window: int
    leaky: bool
    levels: int
    tick_size: float
    start_price: float
    vols: np.ndarray
    regime_probs: np.ndarray
    switch_prob: float
    size_scale: float
    ticks_per_day: int
    start: pd.Timestamp


def _regime_args(vols, regime_probs, switch_prob) -> tuple[np.ndarray, np.ndarray, float]:
    vols_a, _, _ = numeric_array(vols, "vols", ndim=(1,), allow_nan=False, min_rows=1)
    if (vols_a < 0).any():
        raise ValueError(expected("vols", "volatilities >= 0", vols))
    probs_a, _, _ = numeric_array(regime_probs, "regime_probs", ndim=(1,), allow_nan=False)
    if probs_a.shape != vols_a.shape or (probs_a < 0).any() or not np.isclose(probs_a.sum(), 1.0):
        raise ValueError(
            expected("regime_probs", f"{vols_a.size} numbers >= 0 summing to 1 (one per entry of vols)", regime_probs)
        )
    return vols_a, probs_a, number(switch_prob, "switch_prob", low=0.0, high=1.0)


def _start_date(start) -> pd.Timestamp:
    if not isinstance(start, str | pd.Timestamp | np.datetime64 | datetime.date):
        raise TypeError(expected("start", "a date such as '2024-01-02'", start))
    try:
        return pd.Timestamp(start).normalize()
    except ValueError:
        raise ValueError(expected("start", "a date such as '2024-01-02'", start)) from None


def _params(
    n,
    seed,
    edge,
    signal,
    flow_window,
    leaky,
    levels,
    tick_size,
    start_price,
    vols,
    regime_probs,
    switch_prob,
    size_scale,
    ticks_per_day,
    start,
) -> _Params:
    n = integer(n, "n", minimum=2)
    tick_size = number(tick_size, "tick_size", low=0.0, low_open=True)
    floor = 3 * tick_size
    start_price = number(start_price, "start_price", low=floor, what=f"a price >= 3 * tick_size = {floor:g}")
    vols_a, probs_a, switch_prob = _regime_args(vols, regime_probs, switch_prob)
    return _Params(
        n=n,
        seed=integer(seed, "seed", minimum=0),
        edge=number(edge, "edge", low=0.0, high=1.0),
        signal=name_choice(signal, "signal", _SIGNALS),
        flow_window=integer(flow_window, "flow_window", minimum=1),
        leaky=boolean(leaky, "leaky"),
        levels=integer(levels, "levels", minimum=1),
        tick_size=tick_size,
        start_price=start_price,
        vols=vols_a,
        regime_probs=probs_a,
        switch_prob=switch_prob,
        size_scale=number(size_scale, "size_scale", low=0.0, low_open=True),
        ticks_per_day=n if ticks_per_day is None else integer(ticks_per_day, "ticks_per_day", minimum=2),
        start=_start_date(start),
    )


def _regimes(rng: np.random.Generator, p: _Params) -> np.ndarray:
    """1. Markov switching between volatility regimes, starting in regime 0."""
    rows = np.arange(p.n, dtype=np.int64)
    switch = rng.random(p.n) < p.switch_prob
    drawn = rng.choice(p.vols.size, size=p.n, p=p.regime_probs / p.regime_probs.sum())
    last_switch = np.maximum.accumulate(np.where(switch, rows, -1))
    return np.where(last_switch >= 0, drawn[np.maximum(last_switch, 0)], 0).astype(np.int8)


class _Draws(NamedTuple):
    """2.-3. Book sizes (levels, n), spread draws and trades."""

    bid_sizes: np.ndarray
    ask_sizes: np.ndarray
    s_star: np.ndarray
    trade_sign: np.ndarray
    volume: np.ndarray


def _draws(rng: np.random.Generator, p: _Params, regime: np.ndarray) -> _Draws:
    bid_sizes = 1.0 + np.floor(rng.exponential(p.size_scale, size=(p.levels, p.n)))
    ask_sizes = 1.0 + np.floor(rng.exponential(p.size_scale, size=(p.levels, p.n)))
    s_star = 1 + regime.astype(np.int64) + np.round(rng.exponential(0.5, size=p.n)).astype(np.int64)
    trade_sign = np.where(rng.random(p.n) < 0.5, -1, 1).astype(np.int8)
    volume = 1.0 + np.floor(rng.exponential(100.0 + 50.0 * regime))
    return _Draws(bid_sizes, ask_sizes, s_star, trade_sign, volume)


def _information(p: _Params, d: _Draws, day_first: np.ndarray) -> np.ndarray:
    """4. The statistic ``x[t]`` in [-1, 1] known at ``t``."""
    if p.signal == "queue_imbalance":
        return (d.bid_sizes[0] - d.ask_sizes[0]) / (d.bid_sizes[0] + d.ask_sizes[0])
    rows = np.arange(p.n, dtype=np.int64)
    signed = np.cumsum(d.trade_sign * d.volume)
    total = np.cumsum(d.volume)
    back = rows - p.flow_window
    prev_s = np.where(back >= 0, signed[np.maximum(back, 0)], 0.0)
    prev_v = np.where(back >= 0, total[np.maximum(back, 0)], 0.0)
    full = back + 1 >= day_first
    return np.where(full, (signed - prev_s) / np.where(full, total - prev_v, 1.0), 0.0)


def _mid_path(rng: np.random.Generator, p: _Params, p_up: np.ndarray, regime: np.ndarray, s_star: np.ndarray):
    """5. Next moves: direction from ``p_up``, size from the regime at ``t+1``; mid (half ticks) and spread (ticks)."""
    direction = np.where(rng.random(p.n) < p_up, 1, -1).astype(np.int64)
    abs_z = np.abs(rng.standard_normal(p.n))
    sigma_next = np.empty(p.n)
    sigma_next[:-1] = p.vols[regime[1:]]
    sigma_next[-1] = 0.0
    half_tick = p.tick_size / 2.0
    mid0 = int(round(p.start_price / half_tick))
    return _mid_path_nb(mid0, direction, abs_z, sigma_next, s_star, half_tick)


def _imbalance(rng: np.random.Generator, p: _Params, x: np.ndarray, move: np.ndarray) -> np.ndarray:
    """The ``imbalance`` column: ``x``, or with ``leaky=True`` the look-ahead built from the next move."""
    if not p.leaky:
        return x.astype(np.float64)
    noise = rng.standard_normal(p.n)
    imbalance = np.clip(noise * 0.3 + 0.2 * np.sign(move), -1.0, 1.0)
    imbalance[-1] = imbalance[-2]
    return imbalance


def _frame(p: _Params, d: _Draws, spread_ticks, bid1_ticks, ask1_ticks, imbalance, index, day_col) -> pd.DataFrame:
    columns: dict[str, np.ndarray] = {
        "price": np.where(d.trade_sign > 0, ask1_ticks, bid1_ticks) * p.tick_size,
        "volume": d.volume,
        "trade_sign": d.trade_sign,
        "spread": spread_ticks * p.tick_size,
        "imbalance": imbalance,
    }
    for lvl in range(p.levels):
        bid_t = bid1_ticks - lvl
        empty = bid_t < 1
        columns[f"ask_price_{lvl + 1}"] = (ask1_ticks + lvl) * p.tick_size
        columns[f"ask_size_{lvl + 1}"] = d.ask_sizes[lvl]
        columns[f"bid_price_{lvl + 1}"] = np.where(empty, np.nan, bid_t * p.tick_size)
        columns[f"bid_size_{lvl + 1}"] = np.where(empty, np.nan, d.bid_sizes[lvl])
    columns["day"] = day_col
    return pd.DataFrame(columns, index=index)


def _bayes(p_up: np.ndarray, move: np.ndarray, day_first: np.ndarray) -> tuple[float, int]:
    """Expected accuracy of the Bayes rule over the rows whose next move is non-zero and in the same day."""
    next_same_day = np.zeros(p_up.size, dtype=bool)
    next_same_day[:-1] = day_first[1:] == day_first[:-1]
    moving = next_same_day & (move != 0)
    n_moves = int(moving.sum())
    bayes = float(np.mean(np.maximum(p_up[moving], 1.0 - p_up[moving]))) if n_moves else float("nan")
    return bayes, n_moves


def synthetic_ticks(
    n: int,
    *,
    seed: int,
    edge: float = 0.3,
    signal: str = "queue_imbalance",
    flow_window: int = 10,
    leaky: bool = False,
    levels: int = 1,
    tick_size: float = 0.01,
    start_price: float = 100.0,
    vols: tuple[float, ...] = (1e-4, 3e-4, 5e-4),
    switch_prob: float = 0.001,
    regime_probs: tuple[float, ...] = (0.5, 0.35, 0.15),
    size_scale: float = 200.0,
    ticks_per_day: int | None = None,
    start: str = "2024-01-02",
) -> SyntheticTicks:
    """Generate synthetic tick data whose predictability is known exactly.

    See the module docstring for the model, the label that ``bayes_accuracy`` refers to, and leaky mode.

    Parameters
    ----------
    n : int
        Number of ticks (>= 2).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed and arguments give identical output.
    edge : float, default 0.3
        Strength of the information in [0, 1]: ``p_up = (1 + edge * x) / 2``. 0 means nothing known at ``t``
        predicts the next move; 1 makes the direction certain when ``|x| = 1``.
    signal : {"queue_imbalance", "trade_flow"}, default "queue_imbalance"
        Which statistic ``x`` carries the information.
    flow_window : int, default 10
        Window (ticks) of the trade-flow statistic; used with ``signal="trade_flow"``.
    leaky : bool, default False
        Build the ``imbalance`` column from the move ``t -> t+1`` (a deliberate look-ahead; see the module docstring).
    levels : int, default 1
        Number of book levels per side.
    tick_size : float, default 0.01
        Price grid of bid and ask, dollars.
    start_price : float, default 100.0
        Initial mid, dollars (rounded to the half-tick grid).
    vols : tuple of float, default (1e-4, 3e-4, 5e-4)
        Per-tick return volatility of each regime.
    switch_prob : float, default 0.001
        Per-tick probability of drawing a new regime.
    regime_probs : tuple of float, default (0.5, 0.35, 0.15)
        Probabilities of the regimes when a new one is drawn (same length as ``vols``, summing to 1).
    size_scale : float, default 200.0
        Mean of the exponential part of the level sizes, shares.
    ticks_per_day : int, optional
        Ticks per trading day; ``None`` puts all ticks in one day. Days are consecutive business days from
        ``start``, ticks spread over 09:30-16:00. The trade-flow statistic restarts each day; the price carries over.
    start : str, default "2024-01-02"
        First trading date.

    Returns
    -------
    SyntheticTicks
        The frame, the Bayes-optimal accuracy, ``p_up``, the latent regimes and counts; see :class:`SyntheticTicks`.

    Raises
    ------
    TypeError
        If an argument is of the wrong kind (a float or None for ``seed``, a string for a number, datetimes in
        ``vols``); the message names it.
    ValueError
        If an argument is out of range; the message names it.

    Examples
    --------
    >>> ticks = synthetic_ticks(10_000, seed=0, edge=0.4)
    >>> round(ticks.bayes_accuracy, 1)
    0.6
    """
    p = _params(
        n,
        seed,
        edge,
        signal,
        flow_window,
        leaky,
        levels,
        tick_size,
        start_price,
        vols,
        regime_probs,
        switch_prob,
        size_scale,
        ticks_per_day,
        start,
    )
    rng = np.random.default_rng(p.seed)  # the order of the draws below is part of the output: keep it
    regime = _regimes(rng, p)
    d = _draws(rng, p, regime)
    day_first, _ = _day_starts(p.n, p.ticks_per_day)
    x = _information(p, d, day_first)
    p_up = 0.5 * (1.0 + p.edge * x)
    mid_half, spread_ticks, n_floored = _mid_path(rng, p, p_up, regime, d.s_star)
    index, day_col = _timestamps(rng, p.n, p.ticks_per_day, p.start)
    move = np.zeros(p.n, dtype=np.int64)
    move[:-1] = np.diff(mid_half)
    imbalance = _imbalance(rng, p, x, move)
    bid1_ticks = (mid_half - spread_ticks) // 2
    ask1_ticks = (mid_half + spread_ticks) // 2
    data = _frame(p, d, spread_ticks, bid1_ticks, ask1_ticks, imbalance, index, day_col)
    bayes, n_moves = _bayes(p_up, move, day_first)
    p_up_out = p_up.astype(np.float64)
    p_up_out[-1] = np.nan
    return SyntheticTicks(data, bayes, p_up_out, regime, n_moves, int(n_floored))
